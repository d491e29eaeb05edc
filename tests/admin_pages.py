"""Reading the admin's predictions pages as staff see them: their addresses, what they list, their
links to the next page and the filters chosen in their sidebar."""

from __future__ import annotations

import html
import re

from .helpers import listed

BROWSE = "/admin/classifier/prediction/"
EXPORT = "/admin/classifier/prediction/export/"
VERSIONS = "/admin/classifier/modelversion/"


def next_link(page_html: str) -> str | None:
    found = re.search(
        r'<a href="([^"]+)" class="(?:older|next)">(?:Older predictions|Next results)', page_html
    )
    return html.unescape(found[1]) if found else None


def all_pages(client, query: str) -> list[list[str]]:
    """The filenames of every page, following the next-page links from `query`."""
    pages, url = [], BROWSE + query
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(listed(response.text))
        link = next_link(response.text)
        url = BROWSE + link if link else None
    return pages


def sidebar_selection(page_html: str) -> list[str]:
    """The selected choice of each filter in the sidebar."""
    sidebar = page_html.split('id="changelist-filter"', 1)[1]
    return [
        html.unescape(name)
        for name in re.findall(r'<li class="selected">\s*<a href="[^"]*">([^<]+)</a>', sidebar)
    ]


def names(predictions) -> list[str]:
    return [p.filename for p in predictions]
