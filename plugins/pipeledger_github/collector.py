"""Collects every requested repository in turn: its workflow runs, then its deployments with
their approvals and reviews, resuming each from its checkpoint in the ledger; and, unless
told not to, the permission and protection snapshots of every organization and repository
(organizations first, with their audit log where there is one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from pipeledger.adapter import Batch, CheckpointReader, CollectRequest
from pipeledger.errors import UsageError
from pipeledger.progress import Progress
from pipeledger_github import deployments, runs, tags
from pipeledger_github.access import AccessRecorder
from pipeledger_github.checkpoints import SourceCheckpoint
from pipeledger_github.client import GitHubClient
from pipeledger_github.context import RepoContext
from pipeledger_github.errors import NotFound
from pipeledger_github.fields import Oddities, text
from pipeledger_github.tags import TagsCheckpoint


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
        self._owned_names: dict[str, list[str]] = {}
        self._default_branches: dict[str, str | None] = {}
        self._user_accounts: set[str] = set()

    def collect(self, request: CollectRequest, checkpoints: CheckpointReader) -> Iterator[Batch]:
        if request.snapshots:
            for owner in request.owners:
                names = self._owned(owner)
                branches = {name: self._default_branches.get(name) for name in names}
                is_org = owner.strip().lower() not in self._user_accounts
                yield from self.access.owner(
                    owner.strip(), branches, request.since, checkpoints, is_organization=is_org
                )
        for repository in self.repositories(request):
            yield from self.collect_repository(repository, request, checkpoints)
            if request.snapshots:
                yield from self.access.repository(repository, checkpoints)

    def collect_repository(
        self, repository: str, request: CollectRequest, checkpoints: CheckpointReader
    ) -> Iterator[Batch]:
        context = RepoContext(self.client, repository, self.instance, self.oddities, self.progress)
        stored_tags = TagsCheckpoint.loads(checkpoints.checkpoint(context.key(tags.SOURCE)))
        context.tags = tags.RepoTags(
            self.client,
            repository,
            stored_tags,
            oddities=self.oddities,
            page_read=context.page_read,
        )
        self.progress.update(repository=repository)
        stored_runs = SourceCheckpoint.loads(checkpoints.checkpoint(context.key(runs.SOURCE)))
        run_collector = runs.RunsCollector(context, stored_runs)
        yield from run_collector.collect(request.since, request.until)
        stored = SourceCheckpoint.loads(checkpoints.checkpoint(context.key(deployments.SOURCE)))
        now = datetime.fromtimestamp(self.clock(), UTC)
        deployment_collector = deployments.DeploymentsCollector(context, stored, run_collector, now)
        yield from deployment_collector.collect(request.since, request.until)
        context.flush_notices()

    def repositories(self, request: CollectRequest) -> Iterator[str]:
        seen: set[str] = set()
        for name in request.repositories:
            repository = _checked_name(name)
            if repository.lower() not in seen:
                seen.add(repository.lower())
                yield repository
        for owner in request.owners:
            for repository in self._owned(owner):
                if repository.lower() not in seen:
                    seen.add(repository.lower())
                    yield repository

    def _owned(self, owner: str) -> list[str]:
        """Every repository of an organization (or, failing that, of a user), archived ones
        included: their history is still history. Listed once per collection."""
        key = owner.strip().lower()
        if key not in self._owned_names:
            self._owned_names[key] = self._list_owned(owner)
        return self._owned_names[key]

    def _list_owned(self, owner: str) -> list[str]:
        org = quote(owner.strip(), safe="")
        try:
            items = self._list(f"/orgs/{org}/repos", {"type": "all"})
        except NotFound:
            self._user_accounts.add(owner.strip().lower())
            items = self._list(f"/users/{org}/repos", {"type": "owner"})
        names = [name for item in items if (name := text(item, "full_name"))]
        for item in items:
            if name := text(item, "full_name"):
                self._default_branches[name] = text(item, "default_branch")
        archived = sum(1 for item in items if item.get("archived") is True)
        if archived:
            self.progress.notice(
                f"{owner}: {len(names)} repositories, {archived} of them archived (included)."
            )
        return sorted(names, key=str.lower)

    def _list(self, path: str, params: dict[str, str]) -> list[dict[str, object]]:
        items: list[dict[str, object]] = []
        for page in self.client.pages(path, params):
            self.progress.update(pages=1)
            items += [dict(item) for item in page.items]
        return items


def _checked_name(name: str) -> str:
    owner, slash, repo = name.strip().strip("/").partition("/")
    if not slash or not owner or not repo or "/" in repo:
        raise UsageError(
            f"--repo {name!r} is not OWNER/NAME.",
            "Write repositories as OWNER/NAME, for example --repo octo-org/octo-repo.",
        )
    return f"{owner}/{repo}"
