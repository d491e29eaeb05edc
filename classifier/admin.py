"""Predictions in the Django admin.

The stock changelist and change form cannot work on a DjangoCassandraModel under Django 5 (they
pass `Q()` objects and scan-and-sort queries cqlengine cannot run), so this ModelAdmin keeps the
admin's URLs, permissions, templates, messages, CSRF protection, breadcrumbs and history but answers
them with views that read Cassandra the way the tables are modelled (timeline.py, models.py):

- the changelist browses a day or a range of days newest first with cursor paging, with the
  admin's filter sidebar (day, predicted label, model version, uncertain) and search bar (filename
  prefix or SHA-256 prefix), and exports the filtered view as a streamed CSV;
- the change page shows everything stored about a prediction and lets staff with the change
  permission correct its label; the delete page removes it from every table; both are recorded in
  the admin log (LogEntry, object_id = the prediction id), so the History page works;
- "Model versions" lists the trained models with their metrics and report plots, and makes one
  active (change permission).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import uuid
from itertools import chain
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from mlmodel import artifacts
from mlmodel.classes import CLASS_NAMES

from . import export, store, timeline
from .models import Prediction
from .timeline import FILENAME, SHA256, Cursor, Filters, View

PAGE_SIZE = 50
SEARCH_FIELDS = [(FILENAME, "Filename starts with"), (SHA256, "SHA-256 starts with")]
# What a training run writes next to its model (mlmodel/report.py), shown on the model versions page.
REPORT_FILE = "report.json"
PLOTS = {"confusion_matrix.png": "Confusion matrix (test set)", "training_curves.png": "Training curves"}


def parse_day(value: str, name: str = "the day") -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Http404(f"Give {name} as YYYY-MM-DD.") from None


def parse_cursor(value: str | None) -> Cursor | None:
    try:
        return Cursor.parse(value) if value else None
    except ValueError:
        raise Http404("That page cursor is not valid.") from None


def listing_view(params) -> tuple[View, str, str | None]:
    """The view the query parameters ask for, the search text as typed, and why the search was refused.

    Malformed days or filters are a 404 (no link writes them); a search that cannot be run is shown
    as an error above an empty list, with the text kept in the search bar.
    """
    today = timeline.today()
    if params.get("from") or params.get("to"):
        newest = parse_day(params["to"], "'to'") if params.get("to") else today
        oldest = parse_day(params["from"], "'from'") if params.get("from") else newest
        newest, oldest = max(newest, oldest), min(newest, oldest)
    else:
        newest = oldest = parse_day(params["day"]) if params.get("day") else today
    label = params.get("label") or None
    if label is not None and label not in CLASS_NAMES:
        raise Http404("No such label.")
    filters = Filters(
        label=label,
        model_version=params.get("model_version") or None,
        uncertain=params.get("uncertain") == "1",
    )
    try:
        view = View(newest, oldest, filters)
    except ValueError as problem:
        raise Http404(str(problem)) from None
    search = params.get("q", "").strip()
    search_by = params.get("search_by") or FILENAME
    if search_by == SHA256:
        search = search.lower()
    try:
        return dataclasses.replace(view, search=search, search_by=search_by), search, None
    except ValueError as problem:
        return view, search, str(problem)


def view_params(view: View, **changes: str | None) -> dict[str, str]:
    """The query parameters that show `view`, with `changes` (None removes one)."""
    params: dict[str, str | None] = {}
    if view.newest == view.oldest:
        params["day"] = view.newest.isoformat()
    else:
        params["from"], params["to"] = view.oldest.isoformat(), view.newest.isoformat()
    params["label"] = view.filters.label
    params["model_version"] = view.filters.model_version
    params["uncertain"] = "1" if view.filters.uncertain else None
    if view.searching:
        params["q"], params["search_by"] = view.search, view.search_by
    if "day" in changes or "from" in changes:  # another day or range replaces this one
        for name in ("day", "from", "to"):
            params.pop(name, None)
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


def query_string(params: dict[str, str]) -> str:
    return "?" + urlencode(params)


def filter_specs(view: View) -> list[dict]:
    """The filter sidebar, as the admin's list filters: a title and choices (link, selected)."""
    today = timeline.today()

    def choice(display: str, selected: bool, **changes: str | None) -> dict:
        return {
            "display": display,
            "selected": selected,
            "query_string": query_string(view_params(view, **changes)),
        }

    def days_back(count: int) -> dict:
        first = today - datetime.timedelta(days=count - 1)
        selected = (view.oldest, view.newest) == (first, today)
        return choice(f"Past {count} days", selected, **{"from": first.isoformat(), "to": today.isoformat()})

    yesterday = today - datetime.timedelta(days=1)
    versions = [metadata["version"] for metadata in reversed(artifacts.list_versions(settings.MODEL_DIR))]
    if view.filters.model_version and view.filters.model_version not in versions:
        versions.insert(0, view.filters.model_version)
    return [
        {
            "title": "day (UTC)",
            "name": "day",
            "choices": [
                choice("Today", view.newest == view.oldest == today, day=today.isoformat()),
                choice("Yesterday", view.newest == view.oldest == yesterday, day=yesterday.isoformat()),
                days_back(7),
                days_back(30),
            ],
        },
        {
            "title": "predicted label",
            "name": "label",
            "choices": [
                choice("All", view.filters.label is None, label=None),
                *(choice(name, view.filters.label == name, label=name) for name in CLASS_NAMES),
            ],
        },
        {
            "title": "model version",
            "name": "model_version",
            "choices": [
                choice("All", view.filters.model_version is None, model_version=None),
                *(choice(name, view.filters.model_version == name, model_version=name) for name in versions),
            ],
        },
        {
            "title": "confidence",
            "name": "uncertain",
            "choices": [
                choice("All", not view.filters.uncertain, uncertain=None),
                choice(
                    f"Uncertain (below {settings.UNCERTAIN_BELOW:.0%})", view.filters.uncertain, uncertain="1"
                ),
            ],
        },
    ]


def stored_fields(prediction: Prediction) -> list[tuple[str, object]]:
    return [
        ("Id", prediction.id),
        ("Created (UTC)", prediction.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")),
        ("Partition", f"day {prediction.day}, hour {prediction.hour}"),
        ("Filename", prediction.filename),
        ("Label", f"{prediction.label} (class {prediction.label_index})"),
        ("Confidence", f"{prediction.confidence:.4f}" + (" (uncertain)" if prediction.uncertain else "")),
        ("Model version", prediction.model_version),
        ("SHA-256 of the upload", prediction.sha256),
        ("Upload", f"{prediction.image_format}, {prediction.image_width}×{prediction.image_height} pixels"),
    ]


def preprocessing_fields(prediction: Prediction) -> list[tuple[str, str]]:
    def shown(value: object) -> str:
        if isinstance(value, list):
            return " × ".join(map(str, value)) if len(value) == 2 else ", ".join(map(str, value))
        return "—" if value is None else str(value)

    return [
        (name.replace("_", " ").capitalize(), shown(value))
        for name, value in prediction.preprocessing_decisions.items()
    ]


class CorrectionForm(forms.Form):
    corrected_label = forms.ChoiceField(
        label="Corrected label",
        required=False,
        choices=[("", "— no correction —"), *((name, name) for name in CLASS_NAMES)],
        help_text="The true class of this upload, if the prediction is wrong (or to confirm it).",
    )


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # predictions come from uploads only

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Prediction | None:
        try:
            return timeline.find(uuid.UUID(object_id))
        except ValueError:
            return None

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name

        def wrap(view):  # staff login, CSRF protection, never cached: as the admin's own views
            return self.admin_site.admin_view(view)

        return [
            path("export/", wrap(self.export_view), name="{}_{}_export".format(*info)),
            path(
                "model-versions/", wrap(self.model_versions_view), name="{}_{}_model_versions".format(*info)
            ),
            path(
                "model-versions/<str:version>/<str:plot>",
                wrap(self.model_plot_view),
                name="{}_{}_model_plot".format(*info),
            ),
            *super().get_urls(),
        ]

    # --- The list ----------------------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        view, search_text, search_problem = listing_view(request.GET)
        cursor_param = "after" if view.searching else "before"
        cursor = parse_cursor(request.GET.get(cursor_param))
        if search_problem:
            messages.error(request, search_problem)
            listing = timeline.Listing([], None)
        else:
            listing = timeline.page(view, cursor, limit=PAGE_SIZE)
        today = timeline.today()
        single_day = view.newest == view.oldest
        previous_day = view.oldest - datetime.timedelta(days=1)
        next_day = view.newest + datetime.timedelta(days=1)
        days = "" if single_day else f"{view.oldest:%-d %b %Y} to {view.newest:%-d %b %Y}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Predictions of {view.newest:%A %-d %B %Y}"
            if single_day
            else f"Predictions from {days}",
            "subtitle": None,
            "view": view,
            "listing": listing,
            "single_day": single_day,
            "is_first_page": cursor is None,
            "today": today,
            "previous_day": previous_day,
            "previous_day_url": query_string(view_params(view, day=previous_day.isoformat())),
            "next_day": next_day if next_day <= today else None,
            "next_day_url": query_string(view_params(view, day=next_day.isoformat())),
            "first_page_url": query_string(view_params(view)),
            "next_page_url": (
                query_string(view_params(view, **{cursor_param: str(listing.next_cursor)}))
                if listing.next_cursor
                else None
            ),
            "export_url": reverse("admin:classifier_prediction_export") + query_string(view_params(view)),
            "filter_specs": filter_specs(view),
            "filters_active": bool(view.filters),
            "clear_filters_url": query_string(
                view_params(view, label=None, model_version=None, uncertain=None)
            ),
            "search_text": search_text,
            "search_by": request.GET.get("search_by") or FILENAME,
            "search_fields": SEARCH_FIELDS,
            "search_hidden": view_params(dataclasses.replace(view, search="")).items(),
            "clear_search_url": query_string(view_params(dataclasses.replace(view, search=""))),
            "sha256_search": view.searching and view.search_by == SHA256,
            "range_from": view.oldest,
            "range_to": view.newest,
            "preserved_filters": self.get_preserved_filters(request),
            "has_change_permission": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/classifier/prediction/browse.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The whole filtered view (every page) as CSV, streamed as Cassandra pages it in."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        view, _, search_problem = listing_view(request.GET)
        if search_problem:
            return HttpResponse(search_problem, status=400, content_type="text/plain; charset=utf-8")
        rows = timeline.rows(view)
        first = next(rows, None)  # a Cassandra outage surfaces here, as the site's 503, not mid-download
        lines = export.csv_lines(chain([first], rows) if first is not None else [], settings.UNCERTAIN_BELOW)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        name = f"predictions-{view.oldest}" + ("" if view.oldest == view.newest else f"-to-{view.newest}")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    # --- One prediction ----------------------------------------------------------------------------

    def _prediction_or_404(self, object_id: str) -> Prediction:
        prediction = self.get_object(None, object_id)
        if prediction is None:
            raise Http404("No prediction with this id.")
        return prediction

    def _changelist_url(self, request: HttpRequest, prediction: Prediction) -> str:
        url = reverse("admin:classifier_prediction_changelist")
        preserved_filters = self.get_preserved_filters(request)
        if preserved_filters:
            return add_preserved_filters({"preserved_filters": preserved_filters, "opts": self.opts}, url)
        return url + query_string({"day": prediction.created_at.date().isoformat()})

    def _log(self, request: HttpRequest, prediction: Prediction, action_flag: int, message: str) -> None:
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=get_content_type_for_model(Prediction).pk,
            object_id=str(prediction.id),
            object_repr=str(prediction)[:200],
            action_flag=action_flag,
            change_message=message,
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        prediction = self._prediction_or_404(object_id)
        can_correct = self.has_change_permission(request, prediction)
        if request.method == "POST":
            if not can_correct:
                raise PermissionDenied
            form = CorrectionForm(request.POST)
            if form.is_valid():
                return self._correct(request, prediction, form.cleaned_data["corrected_label"] or None)
        else:
            form = CorrectionForm(initial={"corrected_label": prediction.corrected_label or ""})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(prediction),
            "subtitle": None,
            "prediction": prediction,
            "original": prediction,
            "fields": stored_fields(prediction),
            "preprocessing": preprocessing_fields(prediction),
            "form": form if can_correct else None,
            "can_delete": self.has_delete_permission(request, prediction),
            "changelist_url": self._changelist_url(request, prediction),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/classifier/prediction/detail.html", context)

    def _correct(self, request: HttpRequest, prediction: Prediction, label: str | None) -> HttpResponse:
        if label == prediction.corrected_label:
            messages.info(request, "No change: the correction was already so.")
            return HttpResponseRedirect(request.get_full_path())
        if label is None:
            applied = store.clear_correction(prediction.id)
            message = f"Removed the correction of the label (was {prediction.corrected_label})."
        else:
            applied = store.correct(prediction.id, label, request.user.get_username(), timezone.now())
            message = (
                f"Confirmed the label {label}."
                if label == prediction.label
                else f"Corrected the label from {prediction.label} to {label}."
            )
        if not applied:  # deleted in the meantime
            messages.error(request, "This prediction no longer exists; nothing was changed.")
            return HttpResponseRedirect(self._changelist_url(request, prediction))
        self._log(request, prediction, CHANGE, message)
        messages.success(request, f"The prediction “{prediction.filename}” was changed: {message}")
        if "_continue" in request.POST:
            return HttpResponseRedirect(request.get_full_path())
        return HttpResponseRedirect(self._changelist_url(request, prediction))

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        prediction = self._prediction_or_404(object_id)
        if not self.has_delete_permission(request, prediction):
            raise PermissionDenied
        if request.method == "POST":
            self._log(request, prediction, DELETION, "")
            store.delete(prediction)
            messages.success(request, f"The prediction “{prediction}” was deleted successfully.")
            return HttpResponseRedirect(self._changelist_url(request, prediction))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": "Are you sure?",
            "subtitle": None,
            "object": prediction,
            "object_name": str(self.opts.verbose_name),
            "deleted_objects": [
                f"Prediction: {prediction}",
                "Its upload thumbnail and 28×28 model input",
                "Its entries in the filename, SHA-256 and repeat-upload lookups",
            ],
            "model_count": [("predictions", 1)],
            "perms_lacking": None,
            "protected": None,
            "preserved_filters": self.get_preserved_filters(request),
            "is_popup": False,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/classifier/prediction/delete_confirmation.html", context)

    # --- Model versions ----------------------------------------------------------------------------

    def model_versions_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_activate = self.has_change_permission(request)
        if request.method == "POST":
            if not can_activate:
                raise PermissionDenied
            self._activate(request, request.POST.get("version", ""))
            return HttpResponseRedirect(request.path)
        versions = [
            self._version_info(metadata) for metadata in reversed(artifacts.list_versions(settings.MODEL_DIR))
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Model versions",
            "subtitle": None,
            "versions": versions,
            "can_activate": can_activate,
            "model_dir": settings.MODEL_DIR,
            "class_names": CLASS_NAMES,
        }
        return TemplateResponse(request, "admin/classifier/prediction/model_versions.html", context)

    def _activate(self, request: HttpRequest, version: str) -> None:
        try:
            previous = artifacts.active_version(settings.MODEL_DIR)
        except (FileNotFoundError, ValueError):
            previous = None
        try:
            artifacts.activate(version, settings.MODEL_DIR)
        except (ValueError, FileNotFoundError) as problem:
            messages.error(request, f"Model version {version!r} cannot be activated: {problem}")
            return
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type=None,  # a model version is no database object
            object_id=version,
            object_repr=f"Model version {version}",
            action_flag=CHANGE,
            change_message=f"Activated model version {version} (the active one was {previous or 'none'}).",
        )
        messages.success(request, f"Model version {version} is now active: new uploads are classified by it.")

    def _version_info(self, metadata: dict) -> dict:
        version = metadata["version"]
        directory = Path(settings.MODEL_DIR) / version
        try:
            report = json.loads((directory / REPORT_FILE).read_text())
        except (OSError, ValueError):
            report = None
        test = (report or {}).get("test") or {}
        per_class = test.get("per_class") or {}
        today = timeline.today()
        return {
            "metadata": metadata,
            "version": version,
            "created_at": metadata.get("created_at", ""),
            "active": metadata.get("active", False),
            "test": test,
            "per_class": [(name, per_class[name]) for name in CLASS_NAMES if name in per_class],
            "plots": [
                (title, reverse("admin:classifier_prediction_model_plot", args=[version, name]))
                for name, title in PLOTS.items()
                if (directory / name).is_file()
            ],
            "settings": {
                name: metadata[name]
                for name in (
                    "epochs",
                    "subset",
                    "batch_size",
                    "learning_rate",
                    "seed",
                    "precision",
                    "wall_time_s",
                )
                if name in metadata
            },
            "predictions_url": reverse("admin:classifier_prediction_changelist")
            + query_string(
                {
                    "from": (today - datetime.timedelta(days=29)).isoformat(),
                    "to": today.isoformat(),
                    "model_version": version,
                }
            ),
        }

    def model_plot_view(self, request: HttpRequest, version: str, plot: str) -> HttpResponse:
        """A report plot of a model version; only the known file names of a valid version are served."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if plot not in PLOTS:
            raise Http404("No such plot.")
        try:
            artifacts.read_metadata(
                version, settings.MODEL_DIR
            )  # validates the name: no way out of MODEL_DIR
        except (ValueError, OSError):
            raise Http404("No such model version.") from None
        plot_file = Path(settings.MODEL_DIR) / version / plot
        if not plot_file.is_file():
            raise Http404("This model version has no such plot.")
        return FileResponse(plot_file.open("rb"), content_type="image/png")
