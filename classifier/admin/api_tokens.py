"""API tokens in the admin: staff with the add permission make one (its token shown once, on the page
that follows, and stored only as its SHA-256), staff with the change permission revoke them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from ..api_auth import issue
from ..models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        return ["name"] if obj is None else ["name", *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # only the name can change
            return
        request._new_api_token = issue(obj, request.user.get_username())

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None):
        """The one page that shows the token: it is not stored, so it can never be shown again."""
        token = getattr(request, "_new_api_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token made",
            "subtitle": None,
            "api_token": obj,
            "token": token,
        }
        # Never cached: the admin's views send Cache-Control: no-store.
        return TemplateResponse(request, "admin/classifier/apitoken/made.html", context)

    @admin.action(description="Revoke the selected API tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, f"Revoked {revoked} API token{'s' if revoked != 1 else ''}.")
