"""The predictions changelist's filter sidebar, as the admin's list filters show it: for each filter a
title and its choices, each a link (the changelist's query string with that choice) and whether it
is the one selected."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings

from mlmodel import artifacts
from mlmodel.classes import CLASS_NAMES

from ..listing import ListingQuery, today


def filter_specs(query: ListingQuery, url: Callable[..., str]) -> list[dict]:
    """Day presets, predicted label, model version, confidence and a visitor's suggestion, in the
    sidebar's order.

    `url(**changes)` is the query string of the changelist with those parameters changed
    (PredictionChangeList.url).
    """
    filters = query.filters
    now = today()

    def choice(display: str, selected: bool, **changes: str | None) -> dict:
        return {"display": display, "selected": selected, "query_string": url(**changes)}

    def days_back(count: int) -> dict:
        first = now - datetime.timedelta(days=count - 1)
        selected = (query.oldest, query.newest) == (first, now)
        return choice(f"Past {count} days", selected, **{"from": first.isoformat(), "to": now.isoformat()})

    yesterday = now - datetime.timedelta(days=1)
    versions = [metadata["version"] for metadata in reversed(artifacts.list_versions(settings.MODEL_DIR))]
    if filters.model_version and filters.model_version not in versions:
        versions.insert(0, filters.model_version)
    uncertain = f"Uncertain (below {settings.UNCERTAIN_BELOW:.0%})"
    return [
        {
            "title": "day (UTC)",
            "name": "day",
            "choices": [
                choice("Today", query.newest == query.oldest == now, day=now.isoformat()),
                choice("Yesterday", query.newest == query.oldest == yesterday, day=yesterday.isoformat()),
                days_back(7),
                days_back(30),
            ],
        },
        {
            "title": "predicted label",
            "name": "label",
            "choices": [
                choice("All", filters.label is None, label=None),
                *(choice(name, filters.label == name, label=name) for name in CLASS_NAMES),
            ],
        },
        {
            "title": "model version",
            "name": "model_version",
            "choices": [
                choice("All", filters.model_version is None, model_version=None),
                *(choice(name, filters.model_version == name, model_version=name) for name in versions),
            ],
        },
        {
            "title": "confidence",
            "name": "uncertain",
            "choices": [
                choice("All", not filters.uncertain, uncertain=None),
                choice(uncertain, filters.uncertain, uncertain="1"),
            ],
        },
        {
            "title": "visitor's suggestion",
            "name": "suggested",
            "choices": [
                choice("All", not filters.suggested, suggested=None),
                choice("With a suggestion", filters.suggested, suggested="1"),
            ],
        },
    ]
