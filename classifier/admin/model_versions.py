"""The admin's "Model versions" page: every trained version with its metrics and report plots, and
making one active.

Activating a version switches the model that classifies every new upload, so it has a permission
of its own, `classifier.activate_modelversion`, apart from correcting a label (the Prediction
change permission); viewing needs `classifier.view_modelversion` (or the activate permission).
The versions and their reports are read from MODEL_DIR through mlmodel.artifacts.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from mlmodel import artifacts
from mlmodel.classes import CLASS_NAMES

from ..errors import without_server_paths
from ..listing import today
from ..models import ModelVersion
from .changelist import query_string

ACTIVATE = "classifier.activate_modelversion"


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("classifier.view_modelversion") or self.has_change_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm(ACTIVATE)  # "changing" a version is making it the active one

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from `manage.py train_model`

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view  # staff login, CSRF protection, never cached
        return [
            path("", wrap(self.changelist_view), name="classifier_modelversion_changelist"),
            path("<str:version>/<str:plot>", wrap(self.plot_view), name="classifier_modelversion_plot"),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_activate = self.has_change_permission(request)
        if request.method == "POST":
            if not can_activate:
                raise PermissionDenied
            self._activate(request, request.POST.get("version", ""))
            return HttpResponseRedirect(request.path)
        newest_first = reversed(artifacts.list_versions(settings.MODEL_DIR))
        versions = [self._version(metadata) for metadata in newest_first]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Model versions",
            "subtitle": None,
            "versions": versions,
            "can_activate": can_activate,
            "class_names": CLASS_NAMES,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/classifier/modelversion/model_versions.html", context)

    def _activate(self, request: HttpRequest, version: str) -> None:
        try:
            previous = artifacts.active_version(settings.MODEL_DIR)
        except (FileNotFoundError, ValueError):
            previous = None
        try:
            artifacts.activate(version, settings.MODEL_DIR)
        except (ValueError, FileNotFoundError) as problem:
            problem = without_server_paths(str(problem))
            messages.error(request, f"Model version {version!r} cannot be activated: {problem}")
            return
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type=None,  # a model version is no database row
            object_id=version,
            object_repr=f"Model version {version}",
            action_flag=CHANGE,
            change_message=f"Activated model version {version} (the active one was {previous or 'none'}).",
        )
        messages.success(request, f"Model version {version} is now active: new uploads are classified by it.")

    def _version(self, metadata: dict) -> dict:
        version = metadata["version"]
        now = today()
        report = artifacts.read_report(version, settings.MODEL_DIR)
        return {
            "metadata": metadata,
            "version": version,
            "created_at": metadata.get("created_at", ""),
            "active": metadata.get("active", False),
            "report": report,
            "plots": [
                (artifacts.PLOTS[name], reverse("admin:classifier_modelversion_plot", args=[version, name]))
                for name in report.plots
            ],
            "predictions_url": reverse("admin:classifier_prediction_changelist")
            + query_string(
                {
                    "from": (now - datetime.timedelta(days=29)).isoformat(),
                    "to": now.isoformat(),
                    "model_version": version,
                }
            ),
        }

    def plot_view(self, request: HttpRequest, version: str, plot: str) -> HttpResponse:
        """A report plot of a model version; only the known plots of a valid version are served."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            plot_file = artifacts.plot_path(version, plot, settings.MODEL_DIR)
        except (ValueError, OSError):
            raise Http404("No such plot of a model version.") from None
        return FileResponse(plot_file.open("rb"), content_type="image/png")
