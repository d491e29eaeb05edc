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
from django.http.multipartparser import MultiPartParserError
from ninja import File, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as RequestValidationError
from ninja.files import UploadedFile
from pydantic import Field

from mlmodel.classes import CLASS_NAMES

from . import reads
from .api_auth import PROTECTED, upload_auth
from .cql import CASSANDRA_DOWN
from .errors import error_body
from .listing import Cursor, Filters, ListingQuery, today
from .middleware import storage_unavailable
from .models import Prediction, is_prediction_id
from .recorder import Recorded, classify_and_record
from .uploads import Upload, http_status, validate_each

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
        False,
        description="this file was classified before by the same model: this upload, stored as its own "
        "prediction, took that classification without running the model again",
    )


class FailedUploadOut(Schema):
    filename: str
    error: ErrorDetail


class UploadOut(Schema):
    predictions: list[PredictionOut | FailedUploadOut]


class UploadErrorOut(ErrorOut):
    predictions: list[FailedUploadOut] | None = Field(
        None,
        description="why each file was refused, in upload order; absent when the request is no upload "
        "at all (no `image` field, unreadable multipart data)",
    )


class PageOut(Schema):
    day: datetime.date
    predictions: list[PredictionOut]
    next_cursor: uuid.UUID | None = Field(description="pass as `cursor` for the next, older page")


class PageQuery(Schema):
    # Text, not a date: pydantic would also take a number as a Unix time (`day=0` as 1970-01-01).
    day: str | None = Field(
        None, description="UTC day, YYYY-MM-DD; default today", pattern=r"^\d{4}-\d{2}-\d{2}$", format="date"
    )
    label: str | None = Field(None, description="only predictions of this class")
    cursor: uuid.UUID | None = None
    limit: int = Field(50, ge=1, le=200)


# The fields of PredictionOut that are not the prediction's own attributes.
_COMPUTED = {"probabilities", "top", "url", "repeat"}


def prediction_out(request: HttpRequest, prediction: Prediction) -> dict:
    """A prediction as PredictionOut: its own attributes by the schema's field names, and the rest."""
    return {
        **{name: getattr(prediction, name) for name in PredictionOut.model_fields if name not in _COMPUTED},
        "probabilities": dict(zip(CLASS_NAMES, prediction.probabilities)),
        "top": [{"label": label, "probability": p} for label, p in prediction.class_probabilities[:3]],
        "url": request.build_absolute_uri(prediction.get_absolute_url()),
        "repeat": bool(prediction.repeat),
    }


@api.exception_handler(RequestValidationError)
def invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors)
    return api.create_response(request, error_body("invalid_request", problems), status=400)


@api.exception_handler(MultiPartParserError)
def unreadable_upload(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    message = f"The request could not be read as multipart/form-data: {exc}."
    return api.create_response(request, error_body("bad_request", message), status=400)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = (
        "This needs an API token (send it as `Authorization: Bearer <token>`; staff make them in the "
        "admin) or a staff login."
    )
    response = api.create_response(request, error_body("unauthorized", message), status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("not_found", str(exc) or "Not found."), status=404)


for storage_error in CASSANDRA_DOWN:
    api.add_exception_handler(storage_error, lambda request, exc: storage_unavailable(request))


@api.post(
    "/predictions",
    response={
        201: UploadOut,
        400: UploadErrorOut,
        401: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        503: ErrorOut,
    },
    summary="Classify one or several images",
    auth=upload_auth(),
)
def create_predictions(request: HttpRequest, image: File[list[UploadedFile]]):
    """Multipart upload, field `image` (repeat it for several files). Items answer in upload order;
    an item that could not be classified has `filename` and `error` instead. 400 if none could."""
    try:
        outcomes = validate_each(image)
    except ValidationError as problem:  # no file, too many, or too many pixels to decode
        status = http_status([problem.code])
        return Status(status, {**error_body(problem.code, problem.messages[0]), "predictions": []})
    uploads = {n: outcome for n, outcome in enumerate(outcomes) if isinstance(outcome, Upload)}
    recorded: dict[int, Recorded] = dict(zip(uploads, classify_and_record(list(uploads.values()))))
    items = [
        prediction_out(request, recorded[n].prediction)
        if n in recorded
        else {"filename": outcome.filename, **error_body(outcome.code, outcome.message)}
        for n, outcome in enumerate(outcomes)
    ]
    if not recorded:
        nothing = error_body("no_image_classified", "None of the uploaded files could be classified.")
        return Status(400, {**nothing, "predictions": items})
    return Status(201, {"predictions": items})


@api.get(
    "/predictions/{prediction_id}",
    # 400: the id is no UUID at all; 404: no such prediction (or a UUID that is no time UUID).
    response={200: PredictionOut, 400: ErrorOut, 404: ErrorOut, 503: ErrorOut},
)
def get_prediction(request: HttpRequest, prediction_id: uuid.UUID):
    return prediction_out(request, reads.prediction_or_404(prediction_id))


@api.get("/predictions", response={200: PageOut, 400: ErrorOut, 401: ErrorOut, 503: ErrorOut}, auth=PROTECTED)
def list_predictions(request: HttpRequest, query: Query[PageQuery]):
    """A day's predictions of every visitor, newest first, `limit` at a time; follow `next_cursor` for
    older ones. Needs an API token (`Authorization: Bearer <token>`) or a staff login."""
    if query.label is not None and query.label not in CLASS_NAMES:
        return Status(400, error_body("unknown_label", f"label must be one of: {', '.join(CLASS_NAMES)}."))
    if query.cursor is not None and not is_prediction_id(query.cursor):
        return Status(400, error_body("invalid_cursor", "cursor must be a next_cursor this API answered."))
    try:
        day = datetime.date.fromisoformat(query.day) if query.day else today()
        listing = ListingQuery.of_day(day, filters=Filters(label=query.label))
    except ValueError as problem:  # no calendar day (2026-02-30), or none a prediction can have
        return Status(400, error_body("invalid_day", f"day: {problem}"))
    page = reads.page(listing, Cursor(query.cursor) if query.cursor else None, limit=query.limit)
    return {
        "day": day,
        "predictions": [prediction_out(request, prediction) for prediction in page.predictions],
        "next_cursor": page.next_cursor.id if page.next_cursor else None,
    }
