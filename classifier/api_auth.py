"""Who may use the JSON API's protected operations: staff logged in to the admin (their session), or
a program with an API token that staff made in the admin (`ApiToken`, stored as its SHA-256 only).

Listing predictions always needs one of the two: the list shows everyone's uploads. Uploading needs
one only when API_UPLOADS_NEED_TOKEN is set (read when the API is built, so the OpenAPI document
says what the running site asks for). Reading one prediction by its id needs neither: the id is the
link that its uploader was given, with enough random bits not to be guessed.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuthIsStaff

from .models import ApiToken

TOKEN_PREFIX = "fst_"  # recognisable in a leaked config file or a secret scanner's rules
# How stale "last used" may get: recording every use would write SQLite on every request.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(row: ApiToken, created_by: str) -> str:
    """Give a new (unsaved) token row its secret and save it by the secret's hash; return the secret,
    to be shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row.token_hash, row.prefix, row.created_by = token_hash(token), token[:8], created_by
    row.save()
    return token


def make_token(name: str, created_by: str) -> tuple[ApiToken, str]:
    """A new saved token row named `name`, and its secret."""
    row = ApiToken(name=name)
    return row, issue(row, created_by)


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a token made in the admin and not revoked."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.objects.filter(token_hash=token_hash(token), revoked_at__isnull=True).first()
        if found is not None:
            now = timezone.now()
            if found.last_used_at is None or now - found.last_used_at > LAST_USED_PRECISION:
                ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        return found


# A staff session is checked after the token; ninja checks its CSRF token on POST.
PROTECTED = [ApiTokenAuth(), SessionAuthIsStaff()]


def upload_auth() -> list | None:
    """The auth of `POST /api/predictions`: none, or the list's when API_UPLOADS_NEED_TOKEN is set."""
    return PROTECTED if settings.API_UPLOADS_NEED_TOKEN else None
