"""The app's rows in the relational database (SQLite by default), beside Django's own: API tokens, and
the model versions' permissions."""

from django.db import models as django_models


class ApiToken(django_models.Model):
    """A token that lets a program list predictions through the API (api_auth.py), made and revoked
    by staff in the admin. Only its SHA-256 is stored: the token itself is shown once, when made.
    (A token is 256 random bits, so a plain hash suffices; a slow password hash guards guessable secrets.)"""

    name = django_models.CharField(max_length=100, help_text="Who or what uses it, e.g. “nightly export”.")
    token_hash = django_models.CharField(max_length=64, unique=True, editable=False)
    prefix = django_models.CharField(max_length=8, editable=False, help_text="The token's first characters.")
    created_by = django_models.CharField(max_length=150, editable=False)
    created_at = django_models.DateTimeField(auto_now_add=True)
    last_used_at = django_models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = django_models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ModelVersion(django_models.Model):
    """A trained model version, for the admin's "Model versions" page and its permissions.

    No table: the versions are directories in MODEL_DIR (mlmodel/artifacts.py), read by
    admin/model_versions.py. The model exists so that the admin lists the page and that making a
    version active has a permission of its own, apart from correcting labels.
    """

    class Meta:
        managed = False
        default_permissions = ("view",)
        permissions = [("activate_modelversion", "Can activate a model version")]
        verbose_name = "model version"
