"""`manage.py createadmin`: make the first staff account, once, without a prompt."""

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the first superuser if there is none: DJANGO_SUPERUSER_USERNAME (default admin), "
        "DJANGO_SUPERUSER_EMAIL, DJANGO_SUPERUSER_PASSWORD (default: generated, printed and saved "
        "to <data dir>/admin-password.txt)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists already; nothing to do.")
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL") or ""
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if password:
            users.objects.create_superuser(username, email, password)
            self.stdout.write(
                f"Created admin account {username!r} with the password from DJANGO_SUPERUSER_PASSWORD."
            )
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username, email, password)
        saved = settings.DATA_DIR / "admin-password.txt"
        saved.write_text(f"{username}\n{password}\n")
        saved.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin account {username!r} with password {password!r} (saved in {saved})."
            )
        )
