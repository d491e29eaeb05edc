"""Predictions in the Django admin.

The stock changelist and change form cannot work on a DjangoCassandraModel under Django 5 (they
pass `Q()` objects and scan-and-sort queries cqlengine cannot run), so this ModelAdmin keeps the
admin's URLs, permissions, templates and breadcrumbs but answers them with views that read
Cassandra the way the table is modelled: one day at a time, newest first, cursor paging.
"""

import datetime
import uuid

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import timeline
from .models import Prediction

PAGE_SIZE = 50


def parse_day(value: str | None) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else timeline.today()
    except ValueError:
        raise Http404("Give the day as YYYY-MM-DD.") from None


def parse_cursor(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        raise Http404("That page cursor is not valid.") from None


def stored_fields(prediction: Prediction) -> list[tuple[str, object]]:
    return [
        ("Id", prediction.id),
        ("Created (UTC)", prediction.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")),
        ("Partition", f"day {prediction.day}, hour {prediction.hour}"),
        ("Filename", prediction.filename),
        ("Label", f"{prediction.label} (class {prediction.label_index})"),
        ("Confidence", f"{prediction.confidence:.4f}"),
        ("Model version", prediction.model_version),
        ("SHA-256 of the upload", prediction.sha256),
        ("Upload", f"{prediction.image_format}, {prediction.image_width}×{prediction.image_height} pixels"),
        ("Preprocessing", ", ".join(f"{key}: {value}" for key, value in prediction.preprocessing_decisions.items())),
    ]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # predictions come from uploads only

    def has_change_permission(self, request: HttpRequest, obj: Prediction | None = None) -> bool:
        return False  # read-only until corrections exist

    def has_delete_permission(self, request: HttpRequest, obj: Prediction | None = None) -> bool:
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Prediction | None:
        try:
            return timeline.find(uuid.UUID(object_id))
        except ValueError:
            return None

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        day = parse_day(request.GET.get("day"))
        page = timeline.day_page(day, before=parse_cursor(request.GET.get("before")), limit=PAGE_SIZE)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Predictions of {day:%A %-d %B %Y}",
            "page": page,
            "is_first_page": "before" not in request.GET,
            "previous_day": day - datetime.timedelta(days=1),
            "next_day": day + datetime.timedelta(days=1) if day < timeline.today() else None,
            "today": timeline.today(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/classifier/prediction/browse.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        prediction = self.get_object(request, object_id)
        if prediction is None:
            raise Http404("No prediction with this id.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(prediction),
            "prediction": prediction,
            "original": prediction,
            "fields": stored_fields(prediction),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/classifier/prediction/detail.html", context)
