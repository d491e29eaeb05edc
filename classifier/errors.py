"""Error answers in the site's own shape: JSON `{"error": {"code", "message"}}` for the API and JSON
clients, the site's error page for people. Also Django's handler400/404/500 (see fashionsite/urls.py),
so that errors Django raises itself, such as an unparseable upload or an unknown address, look the same."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON of every error the site answers, the API's included."""
    return {"error": {"code": code, "message": message}}


def without_server_paths(text: str) -> str:
    """A message with the server's model directory named MODEL_DIR: pages show no server paths."""
    return text.replace(str(settings.MODEL_DIR), "MODEL_DIR")


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """An error a person (HTML page) or a program (JSON) can act on."""
    if wants_json(request):
        return JsonResponse(error_body(code, message), status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(
        request, 400, "bad_request", "The request could not be read: its form data or upload is malformed."
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 404, "not_found", "There is nothing at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        message = "Something went wrong on our side; the request was not completed."
        return error_response(request, 500, "server_error", message)
    return defaults.server_error(request)  # renders nothing that could fail again
