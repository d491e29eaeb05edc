"""Forwarding headers believed only from the configured proxy.

A reverse proxy tells the site who the client is (`X-Real-IP`, `X-Forwarded-For`) and whether it
came over HTTPS (`X-Forwarded-Proto`). Anyone can send those headers, so they mean something only
when the proxy set them: when the request comes from a proxy address in DJANGO_TRUSTED_PROXIES, or
over gunicorn's Unix socket, which only the local nginx reaches (fashionsite/serve.py; gunicorn gives
such a request an empty REMOTE_ADDR). From a trusted proxy, the client's address becomes
REMOTE_ADDR (what login throttling and the /metrics allow-list look at); from anyone else, the
headers are removed before any other part of the site reads them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

FORWARDING_HEADERS = (
    "HTTP_X_REAL_IP",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PROTOCOL",
    "HTTP_X_FORWARDED_SSL",
    "HTTP_FORWARDED",
)


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def in_networks(address: str, networks: tuple[str, ...]) -> bool:
    """Whether `address` is one of these addresses or networks (False for what is no address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(networks))


def from_trusted_proxy(request: HttpRequest) -> bool:
    peer = request.META.get("REMOTE_ADDR", "")
    return peer == "" or in_networks(peer, tuple(settings.TRUSTED_PROXIES))


class TrustedProxyMiddleware:
    """The first middleware: decide once whether the forwarding headers are the proxy's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if from_trusted_proxy(request):
            client = meta.get("HTTP_X_REAL_IP") or meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1]
            meta["REMOTE_ADDR"] = client.strip()
        else:
            for header in FORWARDING_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)
