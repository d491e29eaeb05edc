"""What a security review checks first: deploy checks, headers, CSRF and staff-only pages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from .helpers import cassandra_db

REPO = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "fashionsite.settings",
    "DJANGO_SECRET_KEY": "x7Qp2-production-secret-from-the-environment-9vLm4sRt8wYz3kNd",
    "DJANGO_ALLOWED_HOSTS": "fashion.example.com",
    "DJANGO_HTTPS": "true",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "true",
    "DJANGO_HSTS_PRELOAD": "true",
}


def manage_check_deploy(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage_check_deploy(**PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_development_secret_key():
    result = manage_check_deploy(**{**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "security.W009" in result.stderr


@cassandra_db
def test_pages_carry_a_content_security_policy(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert (
        "default-src 'self'" in policy
        and "script-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@cassandra_db
def test_upload_form_needs_its_csrf_token(test_image_pngs):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/", {"images": [SimpleUploadedFile("a.png", test_image_pngs[0][0], "image/png")]})
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/", "/admin/classifier/prediction/", "/admin/auth/user/"])
def test_admin_pages_need_a_staff_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
