"""The predictions changelist: what a query string asks for, the page it shows and every link on it.

Like django.contrib.admin's ChangeList (views/main.py), this is the list apart from the ModelAdmin
and from HTTP: `PredictionChangeList(request.GET)` parses the parameters (day or range of days,
filters, search, cursor), `.page()` reads one page from Cassandra (reads.py) and `.context()` is what
the template shows. Malformed days, labels or cursors are a 404 (no link writes them); days that are
well formed but cannot be listed (before the first day a prediction id can name, a range too long)
raise `ListingProblem`, which the admin shows as a message; a search that cannot be run is kept as
`search_problem`, shown above an empty list with its text in the search bar.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse

from mlmodel.classes import CLASS_NAMES

from .. import reads
from ..listing import FILENAME, FIRST_DAY, SHA256, Cursor, Filters, ListingPage, ListingQuery, today
from .filters import filter_specs

SEARCH_FIELDS = [(FILENAME, "Filename starts with"), (SHA256, "SHA-256 starts with")]


class ListingProblem(ValueError):
    """Well-formed days the changelist cannot list; the message says why, for the staff member."""


def query_string(params: Mapping[str, str]) -> str:
    return "?" + urlencode(params)


def _day(value: str, name: str = "the day") -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Http404(f"Give {name} as YYYY-MM-DD.") from None


def _cursor(value: str | None) -> Cursor | None:
    try:
        return Cursor.parse(value) if value else None
    except ValueError:
        raise Http404("That page cursor is not valid.") from None


class PredictionChangeList:
    def __init__(self, params: Mapping[str, str], page_size: int = 50) -> None:
        self.page_size = page_size
        now = today()
        if params.get("from") or params.get("to"):
            newest = _day(params["to"], "'to'") if params.get("to") else now
            oldest = _day(params["from"], "'from'") if params.get("from") else newest
            newest, oldest = max(newest, oldest), min(newest, oldest)  # a reversed range reads as meant
        else:
            newest = oldest = _day(params["day"]) if params.get("day") else now
        label = params.get("label") or None
        if label is not None and label not in CLASS_NAMES:
            raise Http404("No such label.")
        filters = Filters(
            label=label,
            model_version=params.get("model_version") or None,
            uncertain=params.get("uncertain") == "1",
            suggested=params.get("suggested") == "1",
        )
        try:
            browse = ListingQuery(newest, oldest, filters)
        except ValueError as problem:
            raise ListingProblem(str(problem)) from None
        self.search_by = params.get("search_by") or FILENAME
        search = params.get("q", "").strip()
        self.search_text = search.lower() if self.search_by == SHA256 else search  # kept in the search bar
        self.search_problem: str | None = None
        try:
            self.query = dataclasses.replace(browse, search=self.search_text, search_by=self.search_by)
        except ValueError as problem:
            self.query, self.search_problem = browse, str(problem)
        # Browsing pages back in time ("before" the cursor), search results forward in name order.
        self.cursor_param = "after" if self.query.searching else "before"
        self.cursor = _cursor(params.get(self.cursor_param))

    def page(self) -> ListingPage:
        if self.search_problem:
            return ListingPage([], None)
        return reads.page(self.query, self.cursor, limit=self.page_size)

    def params(self, query: ListingQuery | None = None, **changes: str | None) -> dict[str, str]:
        """The query parameters that show `query` (default: this one), with `changes` (None removes one)."""
        query = query or self.query
        params: dict[str, str | None] = {}
        if query.newest == query.oldest:
            params["day"] = query.newest.isoformat()
        else:
            params["from"], params["to"] = query.oldest.isoformat(), query.newest.isoformat()
        params["label"] = query.filters.label
        params["model_version"] = query.filters.model_version
        params["uncertain"] = "1" if query.filters.uncertain else None
        params["suggested"] = "1" if query.filters.suggested else None
        if query.searching:
            params["q"], params["search_by"] = query.search, query.search_by
        if "day" in changes or "from" in changes:  # another day or range replaces this one
            for name in ("day", "from", "to"):
                params.pop(name, None)
        params.update(changes)
        return {name: value for name, value in params.items() if value is not None}

    def url(self, **changes: str | None) -> str:
        """The query string of this changelist with `changes`."""
        return query_string(self.params(**changes))

    def context(self) -> dict[str, object]:
        """What browse.html shows, the admin's own context aside."""
        query, listing = self.query, self.page()
        single_day = query.newest == query.oldest
        # No links past the calendar's edges: before FIRST_DAY, or after today (and date.max).
        previous_day = query.oldest - datetime.timedelta(days=1) if query.oldest > FIRST_DAY else None
        next_day = query.newest + datetime.timedelta(days=1) if query.newest < today() else None
        without_search = dataclasses.replace(query, search="")
        if single_day:
            title = f"Predictions of {query.newest:%A %-d %B %Y}"
        else:
            title = f"Predictions from {query.oldest:%-d %b %Y} to {query.newest:%-d %b %Y}"
        next_cursor = str(listing.next_cursor) if listing.next_cursor else None
        return {
            "title": title,
            "query": query,
            "listing": listing,
            "single_day": single_day,
            "is_first_page": self.cursor is None,
            "today": today(),
            "previous_day": previous_day,
            "previous_day_url": self.url(day=previous_day.isoformat()) if previous_day else None,
            "next_day": next_day,
            "next_day_url": self.url(day=next_day.isoformat()) if next_day else None,
            "first_page_url": self.url(),
            "next_page_url": self.url(**{self.cursor_param: next_cursor}) if next_cursor else None,
            "export_url": reverse("admin:classifier_prediction_export") + self.url(),
            "filter_specs": filter_specs(query, self.url),
            "filters_active": bool(query.filters),
            "clear_filters_url": self.url(label=None, model_version=None, uncertain=None, suggested=None),
            "search_text": self.search_text,
            "search_by": self.search_by,
            "search_fields": SEARCH_FIELDS,
            "search_hidden": self.params(without_search).items(),
            "clear_search_url": query_string(self.params(without_search)),
            "sha256_search": query.searching and query.search_by == SHA256,
            "range_from": query.oldest,
            "range_to": query.newest,
        }
