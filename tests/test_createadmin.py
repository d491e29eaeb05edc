import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def login_request():
    """Logins are checked with their request: django-axes throttles them by address."""
    return RequestFactory().post("/admin/login/")


def test_first_admin_gets_a_generated_password_saved_for_the_owner(settings, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    settings.DATA_DIR = tmp_path
    call_command("createadmin")

    username, password = (tmp_path / "admin-password.txt").read_text().split()
    assert username == "admin" and password in capsys.readouterr().out
    assert (tmp_path / "admin-password.txt").stat().st_mode & 0o077 == 0
    user = authenticate(login_request(), username="admin", password=password)
    assert user is not None and user.is_staff and user.is_superuser


def test_password_from_the_environment_and_no_second_admin(monkeypatch, capsys):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long passphrase here")
    call_command("createadmin")
    call_command("createadmin")

    assert authenticate(login_request(), username="boss", password="a long passphrase here").is_superuser
    assert "exists already" in capsys.readouterr().out
