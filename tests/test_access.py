"""Who may do what beyond the pages: /metrics for the monitoring system only, admin logins throttled
(django-axes), forwarding headers believed only from the configured proxy."""

import re

import pytest
from django.test import Client

from .helpers import cassandra_db

pytestmark = cassandra_db

LOGIN = "/admin/login/"


def test_metrics_answer_loopback_and_the_token_only(client, settings):
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    elsewhere = Client(REMOTE_ADDR="203.0.113.7")
    refused = elsewhere.get("/metrics")
    assert refused.status_code == 403 and "fashionsite_" not in refused.text
    assert elsewhere.get("/metrics", HTTP_ACCEPT="application/json").json()["error"]["code"] == "forbidden"

    settings.METRICS_TOKEN = "scrape-me-7Hq2"
    assert elsewhere.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-7Hq2").status_code == 200
    assert elsewhere.get("/metrics", HTTP_AUTHORIZATION="Bearer guess").status_code == 403
    settings.METRICS_ALLOWED_ADDRESSES = ["203.0.113.0/24"]
    assert elsewhere.get("/metrics").status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is only the default


def test_made_up_methods_do_not_become_new_metric_labels(client):
    for method in ("BREW", "PROPFIND", "X-ANYTHING-123"):
        assert client.generic(method, "/healthz").status_code == 405
    metrics = client.get("/metrics").text
    methods = set(re.findall(r'method="([^"]*)"', metrics))
    assert methods <= {"GET", "HEAD", "POST", "OPTIONS", "other"}, methods
    assert "other" in methods


@pytest.fixture
def staff_account(django_user_model):
    return django_user_model.objects.create_superuser("keeper", "keeper@example.com", "the right password 42")


def log_in(client: Client, password: str):
    return client.post(LOGIN, {"username": "keeper", "password": password, "next": "/admin/"})


def test_logins_lock_out_after_five_failures_even_with_the_right_password(staff_account, settings):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(attacker, "wrong guess").status_code == 200  # the form again, with its error
    locked = log_in(attacker, "wrong guess")
    assert locked.status_code == 429
    assert log_in(attacker, "the right password 42").status_code == 429
    assert "_auth_user_id" not in attacker.session

    # The lock is on that username from that address: staff elsewhere still get in.
    colleague = Client(REMOTE_ADDR="198.51.100.20")
    assert log_in(colleague, "the right password 42").status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_lock_out(staff_account, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}", HTTP_X_REAL_IP=f"10.0.1.{n}"), "wrong guess")
    assert log_in(Client(HTTP_X_FORWARDED_FOR="10.9.9.9"), "the right password 42").status_code == 429


def test_forwarding_headers_are_believed_from_the_configured_proxy_only(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forged = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_PROTO="https")
    assert forged.get("/healthz").wsgi_request.is_secure() is False

    settings.TRUSTED_PROXIES = ["192.0.2.10"]
    proxied = Client(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_PROTO="https", HTTP_X_REAL_IP="203.0.113.7")
    request = proxied.get("/healthz").wsgi_request
    assert request.is_secure() is True and request.META["REMOTE_ADDR"] == "203.0.113.7"
