"""What the per-repository collectors share: the client, names, oddities and progress."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeledger.plugin import AuditEvent, Batch, Holding, Progress
from pipeledger_github.client import GitHubClient
from pipeledger_github.cursor import SourceCursor, cursor_key
from pipeledger_github.normalize.fields import (
    NO_REFS,
    PLATFORM,
    MissingField,
    Oddities,
    RefNames,
    ident_of,
)
from pipeledger_github.normalize.pipelines import (
    DEPLOYMENTS_ENDPOINT,
    RUNS_ENDPOINT,
    deployment_events,
    run_event,
)
from pipeledger_github.tags import SOURCE as TAGS_SOURCE
from pipeledger_github.tags import RepoTags

# Fields of a run that deployments, approvals and the gate need later; keeping only these
# bounds memory on large backfills.
RUN_FIELDS = (
    "id",
    "run_attempt",
    "head_branch",
    "head_sha",
    "created_at",
    "run_started_at",
    "status",
)


@dataclass
class RepoContext:
    client: GitHubClient
    repository: str
    instance: str
    oddities: Oddities
    progress: Progress
    # How bare branch or tag names become full refs: ``collect`` lists the repository's tags
    # on first use; the gate knows the running job's own ref.
    tags: RepoTags | None = None
    job_refs: RefNames = NO_REFS
    # Records the normalizers refused; the next batch carries them to the quarantine.
    held: Holding = field(default_factory=lambda: Holding(PLATFORM))

    def __post_init__(self) -> None:
        self.oddities.holding = self.held  # records refused inside a normalizer, too

    def refs(self) -> RefNames:
        return self.tags.refs() if self.tags is not None else self.job_refs

    def key(self, source: str) -> str:
        return cursor_key(self.instance, self.repository, source)

    def page_read(self) -> None:
        self.progress.update(repository=self.repository, pages=1)

    def batch(
        self, events: Sequence[AuditEvent], source: str, cursor: SourceCursor | None
    ) -> Batch:
        cursors = {self.key(source): cursor.dumps()} if cursor is not None else {}
        if self.tags is not None and (listed := self.tags.take_cursor()) is not None:
            cursors[self.key(TAGS_SOURCE)] = listed
        self.flush_notices()
        return Batch(events=list(events), cursors=cursors, quarantined=self.held.take())

    def flush_notices(self) -> None:
        for message in self.oddities.take():
            self.progress.notice(f"{self.repository}: {message}")

    def normalized(
        self,
        make: Callable[[], list[AuditEvent] | AuditEvent],
        what: str,
        record: Mapping[str, Any],
        endpoint: str,
        native_id: str | None = None,
    ) -> list[AuditEvent]:
        """Events from a normalizer; a record it cannot use is quarantined with a notice."""

        ident = native_id or ident_of(record)
        try:
            made = self.held.guard(
                make,
                raw=record,
                endpoint=endpoint,
                native_id=ident,
                what=what,
                passing=(MissingField,),
            )
        except MissingField as missing:
            self.held.hold(endpoint, ident, f"{missing}", record)
            return []
        if made is None:
            return []
        return made if isinstance(made, list) else [made]

    def run_events(self, run: Mapping[str, Any]) -> list[AuditEvent]:
        """A workflow run as this repository records it."""
        return self.normalized(
            lambda: run_event(
                run,
                self.instance,
                repository=self.repository,
                oddities=self.oddities,
                refs=self.refs(),
            ),
            "workflow run",
            run,
            RUNS_ENDPOINT,
        )

    def deployment_events(
        self, deployment: Mapping[str, Any], statuses: Sequence[Mapping[str, Any]]
    ) -> list[AuditEvent]:
        """A deployment and its statuses as this repository records them."""
        return self.normalized(
            lambda: deployment_events(
                deployment,
                statuses,
                self.instance,
                repository=self.repository,
                oddities=self.oddities,
                refs=self.refs(),
            ),
            "deployment",
            deployment,
            DEPLOYMENTS_ENDPOINT,
        )


def compact_run(run: Mapping[str, Any], repository: str) -> dict[str, Any]:
    compact = {key: run[key] for key in RUN_FIELDS if key in run}
    compact["repository"] = {"full_name": repository}
    return compact
