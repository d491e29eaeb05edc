"""A visitor's recent uploads, kept in their session: the home page lists them, and nobody else's.

No account is needed: the session (Django's, in SQLite) holds the ids of the visitor's last
MAX_RECENT predictions, newest first. An id is all it takes to open a result page, so ids are kept
where only that browser can read them and never listed to anyone else.
"""

import uuid
from collections.abc import Iterable

from django.http import HttpRequest

from . import reads
from .models import Prediction

SESSION_KEY = "recent_uploads"
MAX_RECENT = 20


def remember(request: HttpRequest, predictions: Iterable[Prediction]) -> None:
    """Add these predictions (in upload order) to the front of the visitor's recent uploads."""
    newest_first = [str(prediction.id) for prediction in reversed(list(predictions))]
    kept = [id_text for id_text in request.session.get(SESSION_KEY, []) if id_text not in newest_first]
    request.session[SESSION_KEY] = (newest_first + kept)[:MAX_RECENT]


def recent_uploads(request: HttpRequest) -> list[Prediction]:
    """The visitor's recent uploads that still exist, newest first (none without a session)."""
    ids = []
    for id_text in request.session.get(SESSION_KEY, []):
        try:
            ids.append(uuid.UUID(id_text))
        except (TypeError, ValueError, AttributeError):
            continue  # not ours to trust blindly: a session is data like any other
    return reads.find_many(ids) if ids else []
