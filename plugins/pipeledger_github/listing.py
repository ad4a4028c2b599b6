"""Whole listings read in one pass and re-checked page by page with conditional requests.

GitHub's ETag covers one page, so a listing is unchanged only when every page it had answers
304 (which costs no rate limit). A listing whose last page was full also remembers the
(empty) page after it: an item added at the end then changes that page, not a stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeledger.plugin import ApiClient, ApiResponse, foreign_url, one_line, redact_url
from pipeledger_github.client import PER_PAGE, Item
from pipeledger_github.normalize.fields import require_list, require_object

Parse = Callable[[ApiResponse], list[Item]]


@dataclass(frozen=True)
class PageTag:
    """A page as requested (relative to the API root when it can be) and its ETag."""

    url: str
    etag: str | None

    def to_json(self) -> list[str | None]:
        return [self.url, self.etag]

    @classmethod
    def from_json(cls, data: Any) -> PageTag | None:
        if isinstance(data, list) and len(data) == 2 and isinstance(data[0], str):
            return cls(data[0], data[1] if isinstance(data[1], str) else None)
        return None


@dataclass(frozen=True)
class Listing:
    """``items`` is None when every stored page answered 304: nothing changed."""

    items: list[Item] | None
    pages: tuple[PageTag, ...]

    @property
    def unchanged(self) -> bool:
        return self.items is None


def list_items(key: str | None = None) -> Parse:
    """Parser for a JSON list, or for the list under ``key`` in a wrapper object."""

    def parse(response: ApiResponse) -> list[Item]:
        path = urlsplit(response.url).path
        body = response.body
        if key is not None:
            body = require_object(body, path).get(key)
        return [item for item in require_list(body, path) if isinstance(item, Mapping)]

    return parse


def one_object(response: ApiResponse) -> list[Item]:
    return [require_object(response.body, urlsplit(response.url).path)]


class ListingReader:
    def __init__(
        self,
        api: ApiClient,
        on_page: Callable[[], None],
        notice: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.api = api
        self.on_page = on_page
        self.notice = notice

    def read(
        self,
        path: str,
        params: Mapping[str, str] | None,
        stored: Sequence[PageTag],
        parse: Parse,
        *,
        paged: bool = True,
        probe: bool = True,
    ) -> Listing:
        """The listing, or ``Listing(None, stored)`` when all its stored pages answer 304.
        ``probe`` remembers the page after a full last page (page-numbered listings only)."""
        query = {"per_page": PER_PAGE, **(params or {})} if paged else dict(params or {})
        stored = self._trusted(stored)
        if stored:
            first = self._get(stored[0].url, stored[0].etag)
            if first.not_modified:
                if all(self._get(tag.url, tag.etag).not_modified for tag in stored[1:]):
                    return Listing(None, tuple(stored))
                first = self._get(path, None, query)  # a later page changed: read afresh
            return self._follow(first, parse, paged, probe)
        return self._follow(self._get(path, None, query), parse, paged, probe)

    def _get(
        self, url: str, etag: str | None, params: Mapping[str, str] | None = None
    ) -> ApiResponse:
        self.on_page()
        return self.api.get(url, params, etag=etag)

    def _follow(self, response: ApiResponse, parse: Parse, paged: bool, probe: bool) -> Listing:
        items: list[Item] = []
        tags: list[PageTag] = []
        while True:
            page = parse(response)
            items += page
            tags.append(PageTag(self._relative(response.url), response.etag))
            next_url = response.next_url() if paged else None
            if next_url is None:
                break
            response = self._get(next_url, None)
        if paged and probe and len(page) >= int(PER_PAGE):
            after = self._get(_following_page(response.url, len(tags)), None)
            tags.append(PageTag(self._relative(after.url), after.etag))
            items += parse(after)
        return Listing(items, tuple(tags))

    def _relative(self, url: str) -> str:
        """The page as stored: a path under the API root, never a URL elsewhere."""
        relative = self.api.origin.relative(url)
        if relative is None:
            raise foreign_url(url, self.api.origin, "a page")
        return relative

    def _trusted(self, stored: Sequence[PageTag]) -> Sequence[PageTag]:
        """Stored pages, or none when one lies outside the API root (a cursor written by an
        older version after a redirect): it is ignored and reported, never requested."""
        for tag in stored:
            if tag.url.startswith("/") and not tag.url.startswith("//"):
                continue
            if self.api.origin.contains(tag.url):
                continue
            self.notice(
                f"ignored a stored page URL outside {self.api.origin.base_url}"
                f" ({one_line(redact_url(tag.url), 200)}); the listing is read afresh"
            )
            return ()
        return stored


def _following_page(url: str, pages_read: int) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["page"] = str(int(query.get("page", pages_read)) + 1)
    return urlunsplit(parts._replace(query=urlencode(query)))
