"""The repository's tags, so the bare names GitHub reports (a tag push's ``head_branch``, a
deployment's ``ref``) are recorded as ``refs/tags/…``: listed once per collection, only once
something is recorded, each page conditional on the ETag it had the last time."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeledger_github.client import PER_PAGE, GitHubClient
from pipeledger_github.errors import NotFound
from pipeledger_github.normalize.fields import Oddities, RefNames, require_list, text

SOURCE = "tags"


@dataclass(frozen=True)
class TagPage:
    """One page of ``GET /repos/{owner}/{repo}/tags``: its ETag and its tags (name → the
    commit the tag points at)."""

    etag: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TagsCursor:
    pages: tuple[TagPage, ...] = ()

    def dumps(self) -> str:
        pages = [{"etag": page.etag, "tags": page.tags} for page in self.pages]
        return json.dumps({"version": 1, "pages": pages}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, stored: str | None) -> TagsCursor:
        """A stored cursor; an unreadable one counts as none (the tags are listed anew)."""
        try:
            data = json.loads(stored or "{}")
            return cls(tuple(_page_from_json(page) for page in data.get("pages") or ()))
        except (ValueError, TypeError, AttributeError):
            return cls()


def _page_from_json(data: Any) -> TagPage:
    etag, tags = data.get("etag"), data.get("tags")
    if not isinstance(tags, dict):
        raise ValueError("tags")
    return TagPage(
        etag if isinstance(etag, str) else None,
        {str(name): str(sha) for name, sha in tags.items()},
    )


class RepoTags:
    """The tags of one repository for one collection, listed on first use."""

    def __init__(
        self,
        client: GitHubClient,
        repository: str,
        stored: TagsCursor,
        *,
        oddities: Oddities,
        page_read: Callable[[], None],
    ) -> None:
        self.client = client
        self.repository = repository
        self.stored = stored
        self.oddities = oddities
        self.page_read = page_read
        self._refs: RefNames | None = None
        self._unsaved: TagsCursor | None = None

    def refs(self) -> RefNames:
        if self._refs is None:
            pages = self._list()
            if pages != self.stored.pages:
                self._unsaved = TagsCursor(pages)
            self._refs = RefNames(tags={n: s for page in pages for n, s in page.tags.items()})
        return self._refs

    def take_cursor(self) -> str | None:
        """The cursor to store with the next batch, once, after the listing changed it."""
        unsaved, self._unsaved = self._unsaved, None
        return unsaved.dumps() if unsaved is not None else None

    def _list(self) -> tuple[TagPage, ...]:
        """Every page, each conditional on its stored ETag: a 304 keeps the stored page, and an
        unchanged list costs one 304 per page (one, for fewer than 100 tags)."""
        path = f"{self.client.repos_path(self.repository)}/tags"
        pages: list[TagPage] = []
        while True:
            number = len(pages) + 1
            known = self.stored.pages[number - 1] if number <= len(self.stored.pages) else None
            params = {"per_page": PER_PAGE} | ({"page": str(number)} if number > 1 else {})
            try:
                response = self.client.api.get(path, params, etag=known.etag if known else None)
            except NotFound:
                self.oddities.note("its tags cannot be read; tag names are recorded as branches.")
                return ()
            self.page_read()
            if response.not_modified and known is not None:
                pages.append(known)
                # A full last page may have gained a successor without changing itself.
                more = number < len(self.stored.pages) or len(known.tags) >= int(PER_PAGE)
            else:
                pages.append(TagPage(response.etag, _tags(require_list(response.body, path))))
                more = response.next_url() is not None
            if not more:
                return tuple(pages)


def _tags(items: list[Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        commit = item.get("commit") if isinstance(item, Mapping) else None
        name = text(item, "name") if isinstance(item, Mapping) else None
        sha = text(commit, "sha") if isinstance(commit, Mapping) else None
        if name is not None and sha is not None:
            found[name] = sha
    return found
