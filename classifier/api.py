"""The JSON API, built with django-ninja: typed request and response schemas become the OpenAPI
document at /api/openapi.json and the interactive docs at /api/docs.

Errors are always `{"error": {"code": ..., "message": ...}}` (errors.error_body); uploads are
validated by uploads.py, as the upload form's are.
"""

import datetime
import uuid
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import File, NinjaAPI, Query, Schema, Status
from ninja.errors import ValidationError as RequestValidationError
from ninja.files import UploadedFile
from pydantic import Field

from mlmodel.classes import CLASS_NAMES

from . import reads
from .cql import CASSANDRA_DOWN
from .errors import error_body
from .listing import Cursor, Filters, ListingQuery, today
from .middleware import storage_unavailable
from .models import Prediction
from .recorder import Recorded, classify_and_record
from .uploads import Upload, validate_each

api = NinjaAPI(
    title="fashionsite API",
    version="1",
    description="Classify photos of clothing into the ten Fashion-MNIST classes; read stored predictions.",
    urls_namespace="api",
)


class ErrorDetail(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorDetail


class ClassProbability(Schema):
    label: str
    probability: float


class PredictionOut(Schema):
    id: uuid.UUID
    created_at: datetime.datetime
    filename: str
    label: str
    label_index: int
    confidence: float
    probabilities: dict[str, float] = Field(description="every class name to its probability")
    top: list[ClassProbability] = Field(description="the three most likely classes")
    uncertain: bool = Field(description="the answer is not to be trusted; uncertain_reason says why")
    uncertain_reason: Literal["none_of_the_ten", "low_confidence"] | None = Field(
        description="none_of_the_ten: the photo is probably none of the ten classes; "
        "low_confidence: the most likely class is below the site's threshold"
    )
    model_version: str
    sha256: str
    url: str = Field(description="the prediction's result page")
    repeat: bool = Field(
        False, description="this file was classified before by the same model; not recomputed"
    )


class FailedUploadOut(Schema):
    filename: str
    error: ErrorDetail


class UploadOut(Schema):
    predictions: list[PredictionOut | FailedUploadOut]


class UploadErrorOut(ErrorOut):
    predictions: list[FailedUploadOut]


class PageOut(Schema):
    day: datetime.date
    predictions: list[PredictionOut]
    next_cursor: uuid.UUID | None = Field(description="pass as `cursor` for the next, older page")


class PageQuery(Schema):
    day: datetime.date | None = Field(None, description="UTC day, YYYY-MM-DD; default today")
    label: str | None = Field(None, description="only predictions of this class")
    cursor: uuid.UUID | None = None
    limit: int = Field(50, ge=1, le=200)


# The fields of PredictionOut that are not the prediction's own attributes.
_COMPUTED = {"probabilities", "top", "url", "repeat"}


def prediction_out(request: HttpRequest, prediction: Prediction, repeat: bool = False) -> dict:
    """A prediction as PredictionOut: its own attributes by the schema's field names, and the rest."""
    return {
        **{name: getattr(prediction, name) for name in PredictionOut.model_fields if name not in _COMPUTED},
        "probabilities": dict(zip(CLASS_NAMES, prediction.probabilities)),
        "top": [{"label": label, "probability": p} for label, p in prediction.class_probabilities[:3]],
        "url": request.build_absolute_uri(prediction.get_absolute_url()),
        "repeat": repeat,
    }


@api.exception_handler(RequestValidationError)
def invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors)
    return api.create_response(request, error_body("invalid_request", problems), status=400)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("not_found", str(exc) or "Not found."), status=404)


for storage_error in CASSANDRA_DOWN:
    api.add_exception_handler(storage_error, lambda request, exc: storage_unavailable(request))


@api.post(
    "/predictions",
    response={201: UploadOut, 400: UploadErrorOut, 413: ErrorOut, 415: ErrorOut, 503: ErrorOut},
    summary="Classify one or several images",
)
def create_predictions(request: HttpRequest, image: File[list[UploadedFile]]):
    """Multipart upload, field `image` (repeat it for several files). Items answer in upload order;
    an item that could not be classified has `filename` and `error` instead. 400 if none could."""
    try:
        outcomes = validate_each(image)
    except ValidationError as problem:  # no file, or too many
        return Status(400, {**error_body(problem.code, problem.messages[0]), "predictions": []})
    uploads = {n: outcome for n, outcome in enumerate(outcomes) if isinstance(outcome, Upload)}
    recorded: dict[int, Recorded] = dict(zip(uploads, classify_and_record(list(uploads.values()))))
    items = [
        prediction_out(request, recorded[n].prediction, recorded[n].repeat)
        if n in recorded
        else {"filename": outcome.filename, **error_body(outcome.code, outcome.message)}
        for n, outcome in enumerate(outcomes)
    ]
    if not recorded:
        nothing = error_body("no_image_classified", "None of the uploaded files could be classified.")
        return Status(400, {**nothing, "predictions": items})
    return Status(201, {"predictions": items})


@api.get("/predictions/{prediction_id}", response={200: PredictionOut, 404: ErrorOut, 503: ErrorOut})
def get_prediction(request: HttpRequest, prediction_id: uuid.UUID):
    return prediction_out(request, reads.prediction_or_404(prediction_id))


@api.get("/predictions", response={200: PageOut, 400: ErrorOut, 503: ErrorOut})
def list_predictions(request: HttpRequest, query: Query[PageQuery]):
    """A day's predictions newest first, `limit` at a time; follow `next_cursor` for older ones."""
    if query.label is not None and query.label not in CLASS_NAMES:
        return Status(400, error_body("unknown_label", f"label must be one of: {', '.join(CLASS_NAMES)}."))
    day = query.day or today()
    listing = ListingQuery.of_day(day, filters=Filters(label=query.label))
    page = reads.page(listing, Cursor(query.cursor) if query.cursor else None, limit=query.limit)
    return {
        "day": day,
        "predictions": [prediction_out(request, prediction) for prediction in page.predictions],
        "next_cursor": page.next_cursor.id if page.next_cursor else None,
    }
