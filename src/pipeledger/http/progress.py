"""Which page of how many a list response is, from what the API says about it: GitLab's
``X-Page``/``X-Total-Pages``, a ``Link`` header's ``rel="last"`` page, or a body's
``total_count`` with the ``per_page`` asked for. Keyset and cursor pagination say nothing,
and then neither does this."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit


def listing_page(
    url: str, headers: Mapping[str, str], body: Any, links: Mapping[str, str]
) -> tuple[int, int] | None:
    """(page, pages) of a list response with more than one page; None when unknown."""
    page = _int(headers.get("x-page")) or _query_int(url, "page") or 1
    pages = (
        _int(headers.get("x-total-pages"))
        or _last_page(links, page)
        or _from_total_count(url, body)
    )
    if pages is None or pages < 2 or page > pages:
        return None
    return page, pages


def _last_page(links: Mapping[str, str], page: int) -> int | None:
    if "last" in links:
        return _query_int(links["last"], "page")
    if "prev" in links and "next" not in links:
        return page  # the last page itself names no rel="last"
    return None


def _from_total_count(url: str, body: Any) -> int | None:
    if not isinstance(body, dict):
        return None
    total = body.get("total_count")
    per_page = _query_int(url, "per_page") or 30
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        return None
    return max(1, math.ceil(total / per_page))


def _query_int(url: str, name: str) -> int | None:
    try:
        values = parse_qs(urlsplit(url).query).get(name)
    except ValueError:
        return None
    return _int(values[0]) if values else None


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())
