"""A visitor's "Wrong answer?": which class the photo really shows, stored with the prediction as a
suggestion (store.suggest) for staff to accept as a correction or not (the admin), so that only
what staff checked reaches training. CSRF-protected like every form, and rate-limited per visitor:
at most SUGGESTIONS_PER_HOUR in any hour, counted in Cassandra (suggestion_by_visitor, rows that
expire after an hour), so the limit holds across web workers and replicas.

A visitor is their address (REMOTE_ADDR: behind the project's proxy, the client's own), kept only as
a keyed hash: the count needs no address, and none is stored.
"""

from __future__ import annotations

import hashlib
import hmac

from django import forms
from django.conf import settings
from django.http import HttpRequest

from mlmodel.classes import CLASS_NAMES

from . import reads, store


class SuggestionForm(forms.Form):
    label = forms.ChoiceField(
        label="It is really",
        choices=[("", "— choose the class —"), *((name, name) for name in CLASS_NAMES)],
        error_messages={
            "required": "Choose the class the photo really shows.",
            "invalid_choice": "Choose one of the ten classes.",
        },
    )


def visitor_key(request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    key = hmac.new(settings.SECRET_KEY.encode(), b"suggestions:" + address.encode(), hashlib.sha256)
    return key.hexdigest()[:32]


def take_one(visitor: str) -> bool:
    """Count a suggestion of the visitor's, if their allowance has room for it; False if not."""
    limit = settings.SUGGESTIONS_PER_HOUR
    if reads.suggestions_sent(visitor, up_to=limit) >= limit:
        return False
    store.count_suggestion(visitor)
    return True


def limit_message() -> str:
    return (
        f"You have sent {settings.SUGGESTIONS_PER_HOUR} suggestions in the past hour, the most we take "
        "from one visitor. Please try again later."
    )
