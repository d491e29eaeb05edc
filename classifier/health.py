"""Probes for orchestrators: /healthz (the process answers) and /readyz (it can serve predictions)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import cql
from .errors import without_server_paths
from .serving import site_predictor


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def active_model() -> tuple[str | None, str | None]:
    """(active model version, problem)."""
    try:
        return site_predictor().version, None
    except (OSError, ValueError) as error:
        return None, without_server_paths(f"No model can be loaded from MODEL_DIR: {error}")


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    model_version, model_error = active_model()
    problems = [problem for problem in (cql.unavailable(), model_error) if problem]
    return JsonResponse(
        {"status": "unready" if problems else "ready", "model_version": model_version, "problems": problems},
        status=503 if problems else 200,
    )
