"""Collects every requested repository in turn: its workflow runs, then its deployments with
their approvals and reviews, resuming each from its cursor in the ledger; and, unless
told not to, the permission and protection snapshots of every organization and repository
(organizations first, with their audit log where there is one)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from urllib.parse import quote

from pipeledger.plugin import (
    Batch,
    CollectRequest,
    CollectScope,
    CursorReader,
    PermissionDenied,
    Progress,
    ScopedCollection,
    UsageError,
    run_serially,
)
from pipeledger_github import deployments, runs, tags
from pipeledger_github.access.snapshots import AccessRecorder
from pipeledger_github.client import GitHubClient
from pipeledger_github.cursor import RepositoryList, SourceCursor, cursor_key
from pipeledger_github.errors import NotFound
from pipeledger_github.normalize.fields import Oddities, text
from pipeledger_github.repo_context import RepoContext
from pipeledger_github.tags import TagsCursor

REPOSITORIES = "repositories"


class Collector:
    def __init__(
        self,
        client: GitHubClient,
        instance: str,
        progress: Progress,
        clock: Callable[[], float],
    ) -> None:
        self.client = client
        self.instance = instance
        self.progress = progress
        self.clock = clock
        # Shared by every repository, so each oddity is reported once per collection.
        self.oddities = Oddities()
        self.access = AccessRecorder(client, instance, progress, clock)
        self._listings: dict[str, RepositoryList] = {}

    def collect(self, request: CollectRequest, cursors: CursorReader) -> Iterator[Batch]:
        yield from run_serially(self.scoped(request), cursors)

    def scoped(self, request: CollectRequest, concurrency: int = 1) -> ScopedCollection:
        return _Repositories(self, request, concurrency)

    def owners(
        self, request: CollectRequest, cursors: CursorReader, concurrency: int = 1
    ) -> Iterator[Batch]:
        """Each organization's repository list, with its snapshots (``concurrency`` at
        once) and audit log."""
        for owner in request.owners:
            listed = yield from self._owned(owner, cursors)
            if request.snapshots:
                yield from self.access.owner(
                    owner.strip(),
                    dict(listed.default_branches),
                    request.since,
                    cursors,
                    is_organization=not listed.user_account,
                    concurrency=concurrency,
                )

    def repository_scope(
        self,
        repository: str,
        request: CollectRequest,
        cursors: CursorReader,
        refused: list[tuple[str, PermissionDenied]],
    ) -> Iterator[Batch]:
        try:
            yield from self.collect_repository(repository, request, cursors)
            if request.snapshots:
                yield from self.access.repository(repository, cursors)
        except PermissionDenied as error:
            # One repository the token may not read must not hold up a whole org's
            # backfill: what it stored stays stored, the others are collected, and the
            # run still ends in an error that names every repository skipped.
            refused.append((repository, error))
            self.progress.notice(f"{repository}: skipped, {error.message}")

    def collect_repository(
        self, repository: str, request: CollectRequest, cursors: CursorReader
    ) -> Iterator[Batch]:
        context = RepoContext(self.client, repository, self.instance, self.oddities, self.progress)
        stored_tags = TagsCursor.loads(cursors.cursor(context.key(tags.SOURCE)))
        context.tags = tags.RepoTags(
            self.client,
            repository,
            stored_tags,
            oddities=self.oddities,
            page_read=context.page_read,
        )
        self.progress.update(repository=repository)
        stored_runs = SourceCursor.loads(cursors.cursor(context.key(runs.SOURCE)))
        run_collector = runs.RunsCollector(context, stored_runs)
        yield from run_collector.collect(request.since, request.until)
        stored = SourceCursor.loads(cursors.cursor(context.key(deployments.SOURCE)))
        now = datetime.fromtimestamp(self.clock(), UTC)
        deployment_collector = deployments.DeploymentsCollector(context, stored, run_collector, now)
        yield from deployment_collector.collect(request.since, request.until)
        context.flush_notices()

    def repositories(self, request: CollectRequest) -> Iterator[str]:
        """Each repository once: those named, then each owner's (listed by ``_owned``)."""
        seen: set[str] = set()
        owned = (
            name
            for owner in request.owners
            for name in sorted(self._listings[owner.strip().lower()].names, key=str.lower)
        )
        for name in chain((_checked_name(n) for n in request.repositories), owned):
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def _owned(self, owner: str, cursors: CursorReader) -> Generator[Batch, None, RepositoryList]:
        """Every repository of an organization (or, failing that, of a user), archived ones
        included: their history is still history. Listed once per collection; a changed list
        is stored (the batch yielded) so the next collection can ask for it conditionally."""
        key = cursor_key(self.instance, owner.strip(), REPOSITORIES)
        stored = RepositoryList.loads(cursors.cursor(key))
        org = quote(owner.strip(), safe="")
        try:
            listed = self._list(f"/orgs/{org}/repos", {"type": "all"}, stored)
        except NotFound:
            listed = self._list(f"/users/{org}/repos", {"type": "owner"}, stored, user=True)
        if listed.archived:
            self.progress.notice(
                f"{owner}: {len(listed.names)} repositories, {listed.archived} of them archived"
                " (included)."
            )
        if listed is not stored:
            yield Batch(events=[], cursors={key: listed.dumps()})
        self._listings[owner.strip().lower()] = listed
        return listed

    def _list(
        self, path: str, params: dict[str, str], stored: RepositoryList, *, user: bool = False
    ) -> RepositoryList:
        """The owner's repositories; ``stored`` itself when its ETag still matches."""
        items: list[Mapping[str, object]] = []
        etag: str | None = None
        for number, page in enumerate(self.client.pages(path, params, etag=stored.etag), 1):
            self.progress.update(pages=1)
            if page.not_modified:
                return stored
            # One page's ETag vouches for the whole list only when there is no other page.
            etag = page.etag if number == 1 and page.next_url is None else None
            items += page.items
        named = [(name, item) for item in items if (name := text(item, "full_name"))]
        return RepositoryList(
            etag=etag,
            names=tuple(name for name, _ in named),
            archived=sum(1 for item in items if item.get("archived") is True),
            default_branches=tuple((name, text(item, "default_branch")) for name, item in named),
            user_account=user,
        )


class _Repositories(ScopedCollection):
    """Organizations first (alone), then one scope per repository."""

    def __init__(self, collector: Collector, request: CollectRequest, concurrency: int) -> None:
        self._collector = collector
        self._request = request
        self._concurrency = concurrency
        self._names: list[str] = []
        self._refused: list[tuple[str, PermissionDenied]] = []

    def prepare(self, cursors: CursorReader) -> Iterator[Batch]:
        yield from self._collector.owners(self._request, cursors, self._concurrency)
        self._names = list(self._collector.repositories(self._request))
        self._collector.progress.expect(repositories=len(self._names))

    def scopes(self) -> list[CollectScope]:
        return [CollectScope(name, partial(self._scope, name)) for name in self._names]

    def _scope(self, name: str, cursors: CursorReader) -> Iterator[Batch]:
        return self._collector.repository_scope(name, self._request, cursors, self._refused)

    def finish(self) -> None:
        if self._refused:
            order = {name: index for index, name in enumerate(self._names)}
            raise _skipped(sorted(self._refused, key=lambda each: order[each[0]]))


def _skipped(refused: list[tuple[str, PermissionDenied]]) -> PermissionDenied:
    names = ", ".join(name for name, _ in refused)
    first = refused[0][1]
    return PermissionDenied(
        f"{len(refused)} repositor{'y was' if len(refused) == 1 else 'ies were'} skipped"
        f" because GitHub refused: {names}. First refusal: {first.message}",
        first.remedy,
    )


def _checked_name(name: str) -> str:
    owner, slash, repo = name.strip().strip("/").partition("/")
    if not slash or not owner or not repo or "/" in repo:
        raise UsageError(
            f"--repo {name!r} is not OWNER/NAME.",
            "Write repositories as OWNER/NAME, for example --repo octo-org/octo-repo.",
        )
    return f"{owner}/{repo}"
