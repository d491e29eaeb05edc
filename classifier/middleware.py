"""Answers for requests the views cannot serve: Cassandra down, or an upload far too large."""

import logging
from collections.abc import Callable

from cassandra.cqlengine import connection as cqlengine_connection
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat

from .cql import CASSANDRA_DOWN
from .errors import error_response

logger = logging.getLogger(__name__)

# Multipart framing around the files themselves.
REQUEST_OVERHEAD_BYTES = 64 * 1024


def storage_unavailable(request: HttpRequest) -> HttpResponse:
    return error_response(
        request,
        503,
        "storage_unavailable",
        "The prediction store (Cassandra) is not answering right now, so this request was not "
        "completed. Please try again in a minute (an upload sent again is never stored twice).",
    )


def connect_once() -> None:
    """Wait for the lazy Cassandra connection to be made, by this thread or the one already making it.

    cqlengine marks a lazy connection as made before it has connected, so a thread arriving meanwhile
    would find no session and answer 500; the connecting thread holds `lazy_connect_lock` until done.
    """
    try:
        connection = cqlengine_connection.get_connection("cassandra")  # connects, unless under way
        if connection.session is None:
            with connection.lazy_connect_lock:
                connection.handle_lazy_connect()  # connects if the other thread's attempt failed
    except CASSANDRA_DOWN:
        pass  # the view's own query fails the same way and answers 503


class CassandraUnavailableMiddleware:
    """Turn "Cassandra is not answering" into a 503 that says so; the driver reconnects by itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connect_once()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CASSANDRA_DOWN):
            return None
        logger.warning("Cassandra unavailable for %s %s: %s", request.method, request.path, exception)
        return storage_unavailable(request)


class UploadSizeLimitMiddleware:
    """Refuse a request body larger than any valid upload from its declared length, unread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.declared_length(request) > self.limit():
            return error_response(
                request,
                413,
                "too_large",
                f"The upload is too large: at most {settings.UPLOAD_MAX_FILES} images of at most "
                f"{filesizeformat(settings.UPLOAD_MAX_BYTES)} each.",
            )
        return self.get_response(request)

    @staticmethod
    def limit() -> int:
        return settings.UPLOAD_MAX_BYTES * settings.UPLOAD_MAX_FILES + REQUEST_OVERHEAD_BYTES

    @staticmethod
    def declared_length(request: HttpRequest) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
