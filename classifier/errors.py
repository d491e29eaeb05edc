from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def error_response(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """An error a person (HTML page) or a program (JSON) can act on."""
    if wants_json(request):
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)
