"""The predictions admin: the changelist (changelist.py) with its CSV export, and one prediction's
page, where staff with the change permission correct its label and staff with the delete permission
delete it; both go into the admin log (LogEntry, object_id = the prediction id), so History works.

The stock changelist and change form cannot work on a DjangoCassandraModel under Django 5 (they
pass `Q()` objects and scan-and-sort queries cqlengine cannot run), so this ModelAdmin keeps the
admin's URLs, permissions, templates, messages, CSRF protection, breadcrumbs and history but answers
them with views that read Cassandra the way the tables are modelled (reads.py).
"""

from __future__ import annotations

from itertools import chain

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from .. import export, reads, store
from ..models import Prediction
from .changelist import ListingProblem, PredictionChangeList, query_string
from .display import CorrectionForm, preprocessing_fields, stored_fields


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # predictions come from uploads only

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Prediction | None:
        try:
            return reads.prediction_or_404(object_id)
        except Http404:
            return None

    def get_urls(self) -> list[URLPattern]:
        # Staff login, CSRF protection, never cached: as the admin's own views.
        export_view = self.admin_site.admin_view(self.export_view)
        return [path("export/", export_view, name="classifier_prediction_export"), *super().get_urls()]

    # --- The list ----------------------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = PredictionChangeList(request.GET, page_size=self.list_per_page)
        except ListingProblem as problem:
            messages.error(request, str(problem))
            return HttpResponseRedirect(reverse("admin:classifier_prediction_changelist"))
        if changelist.search_problem:
            messages.error(request, changelist.search_problem)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "subtitle": None,
            **changelist.context(),
            "preserved_filters": self.get_preserved_filters(request),
            "has_change_permission": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/classifier/prediction/browse.html", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The whole filtered view (every page) as CSV, streamed as Cassandra pages it in."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = PredictionChangeList(request.GET)
            problem = changelist.search_problem
        except ListingProblem as listing_problem:
            problem = str(listing_problem)
        if problem:
            return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
        query = changelist.query
        rows = reads.rows(query)
        first = next(rows, None)  # a Cassandra outage surfaces here, as the site's 503, not mid-download
        lines = export.csv_lines(chain([first], rows) if first is not None else [], settings.UNCERTAIN_BELOW)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        name = f"predictions-{query.oldest}" + ("" if query.oldest == query.newest else f"-to-{query.newest}")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    # --- One prediction ----------------------------------------------------------------------------

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
        prediction = reads.prediction_or_404(object_id)
        can_correct = self.has_change_permission(request, prediction)
        if request.method == "POST":
            if not can_correct:
                raise PermissionDenied
            if "_accept_suggestion" in request.POST:  # one click: the visitor's suggestion, checked by staff
                return self._accept_suggestion(request, prediction)
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

    def _accept_suggestion(self, request: HttpRequest, prediction: Prediction) -> HttpResponse:
        if not prediction.suggested_label:
            messages.error(request, "This prediction has no visitor's suggestion to accept.")
            return HttpResponseRedirect(request.get_full_path())
        return self._correct(request, prediction, prediction.suggested_label, "a visitor's suggestion")

    def _correct(
        self, request: HttpRequest, prediction: Prediction, label: str | None, source: str | None = None
    ) -> HttpResponse:
        """Store (or clear) a correction through store.correct, in the admin log; `source` says where
        the label came from when staff did not choose it in the form."""
        if label == prediction.corrected_label:
            messages.info(request, "No change: the correction was already so.")
            return HttpResponseRedirect(request.get_full_path())
        if label is None:
            applied = store.clear_correction(prediction.id)
            message = f"Removed the correction of the label (was {prediction.corrected_label})."
        else:
            applied = store.correct(prediction.id, label, request.user.get_username(), timezone.now())
            message = (
                f"Confirmed the label {label}"
                if label == prediction.label
                else f"Corrected the label from {prediction.label} to {label}"
            ) + (f", accepting {source}." if source else ".")
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
        prediction = reads.prediction_or_404(object_id)
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
