"""Collects every requested repository in turn: its workflow runs, then its deployments with
their approvals and reviews, resuming each from its checkpoint in the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import chain
from urllib.parse import quote

from pipeledger.adapter import Batch, CheckpointReader, CollectRequest
from pipeledger.errors import UsageError
from pipeledger.progress import Progress
from pipeledger_github import deployments, runs
from pipeledger_github.checkpoints import RepositoryList, SourceCheckpoint, checkpoint_key
from pipeledger_github.client import GitHubClient
from pipeledger_github.context import RepoContext
from pipeledger_github.errors import NotFound
from pipeledger_github.fields import Oddities, text

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

    def collect(self, request: CollectRequest, checkpoints: CheckpointReader) -> Iterator[Batch]:
        for item in self.repositories(request, checkpoints):
            if isinstance(item, Batch):
                yield item
            else:
                yield from self.collect_repository(item, request, checkpoints)

    def collect_repository(
        self, repository: str, request: CollectRequest, checkpoints: CheckpointReader
    ) -> Iterator[Batch]:
        context = RepoContext(self.client, repository, self.instance, self.oddities, self.progress)
        self.progress.update(repository=repository)
        stored_runs = SourceCheckpoint.loads(checkpoints.checkpoint(context.key(runs.SOURCE)))
        run_collector = runs.RunsCollector(context, stored_runs)
        yield from run_collector.collect(request.since, request.until)
        stored = SourceCheckpoint.loads(checkpoints.checkpoint(context.key(deployments.SOURCE)))
        now = datetime.fromtimestamp(self.clock(), UTC)
        deployment_collector = deployments.DeploymentsCollector(context, stored, run_collector, now)
        yield from deployment_collector.collect(request.since, request.until)
        context.flush_notices()

    def repositories(
        self, request: CollectRequest, checkpoints: CheckpointReader
    ) -> Iterator[str | Batch]:
        """Each repository once: those named, then each owner's (after the batch that stores
        the owner's list, so the next collection can ask for it conditionally)."""
        seen: set[str] = set()
        named = (_checked_name(name) for name in request.repositories)
        owned = (item for owner in request.owners for item in self._owned(owner, checkpoints))
        for item in chain(named, owned):
            if isinstance(item, Batch):
                yield item
            elif item.lower() not in seen:
                seen.add(item.lower())
                yield item

    def _owned(self, owner: str, checkpoints: CheckpointReader) -> Iterator[str | Batch]:
        """Every repository of an organization (or, failing that, of a user), archived ones
        included: their history is still history."""
        key = checkpoint_key(self.instance, owner.strip(), REPOSITORIES)
        stored = RepositoryList.loads(checkpoints.checkpoint(key))
        org = quote(owner.strip(), safe="")
        try:
            listed = self._list(f"/orgs/{org}/repos", {"type": "all"}, stored)
        except NotFound:
            listed = self._list(f"/users/{org}/repos", {"type": "owner"}, stored)
        if listed.archived:
            self.progress.notice(
                f"{owner}: {len(listed.names)} repositories, {listed.archived} of them archived"
                " (included)."
            )
        if listed is not stored:
            yield Batch(events=[], checkpoints={key: listed.dumps()})
        yield from sorted(listed.names, key=str.lower)

    def _list(self, path: str, params: dict[str, str], stored: RepositoryList) -> RepositoryList:
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
        return RepositoryList(
            etag=etag,
            names=tuple(name for item in items if (name := text(item, "full_name"))),
            archived=sum(1 for item in items if item.get("archived") is True),
        )


def _checked_name(name: str) -> str:
    owner, slash, repo = name.strip().strip("/").partition("/")
    if not slash or not owner or not repo or "/" in repo:
        raise UsageError(
            f"--repo {name!r} is not OWNER/NAME.",
            "Write repositories as OWNER/NAME, for example --repo octo-org/octo-repo.",
        )
    return f"{owner}/{repo}"
