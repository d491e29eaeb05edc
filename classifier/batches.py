"""The results page of one upload of several photos: exactly those photos, in upload order.

The page's address carries the upload's outcome, signed (django.core.signing, with SECRET_KEY): the
id of each prediction, or the name and error of each file that was refused. So the page needs no
storage of its own (any web worker answers it, as every page here), it can be reloaded and shared
like a result page, and nobody can make the site show an error message of their own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core import signing
from django.http import Http404
from django.urls import reverse

from . import reads
from .models import Prediction
from .recorder import Recorded
from .uploads import Refused

SALT = "classifier.batches"


@dataclass(frozen=True)
class Item:
    """One file of the upload: its prediction, or why it was refused, or that it was deleted since."""

    prediction: Prediction | None = None
    refused: Refused | None = None


def results_url(outcomes: list[Recorded | Refused]) -> str:
    """The address of the results page of an upload whose files ended as `outcomes`, in upload order."""
    items = [
        [outcome.filename, outcome.code, outcome.message]
        if isinstance(outcome, Refused)
        else outcome.prediction.id.hex
        for outcome in outcomes
    ]
    return reverse("classifier:batch", args=[signing.dumps(items, salt=SALT, compress=True)])


def items_or_404(token: str) -> list[Item]:
    """The files of the upload the token was made for, their predictions read from Cassandra."""
    try:
        items = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise Http404("No upload has these results: the address is incomplete or was changed.") from None
    ids = [uuid.UUID(item) for item in items if isinstance(item, str)]
    found = {prediction.id: prediction for prediction in reads.find_many(ids)}
    return [
        Item(prediction=found.get(uuid.UUID(item))) if isinstance(item, str) else Item(refused=Refused(*item))
        for item in items
    ]
