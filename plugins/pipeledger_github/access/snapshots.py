"""Permission and protection history for one collection, on every GitHub plan: snapshots of
each repository and organization, compared with the previous ones, plus the organization's
audit log where the plan and token allow it. One change, one fact: the core merges a change
the audit log recorded (with its real actor) and a snapshot difference of it
(:mod:`pipeledger.facts`), in this run or across runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from pipeledger.plugin import (
    AuditEvent,
    Batch,
    CursorReader,
    PermissionDenied,
    Progress,
    format_time,
    parse_time,
)
from pipeledger_github.access.org import organization_snapshot
from pipeledger_github.access.repo import repository_snapshot
from pipeledger_github.access.resource import AccessContext
from pipeledger_github.access.scope import Refusals
from pipeledger_github.audit.stream import (
    REPROBE,
    read_audit_log,
    refused_cursor,
    skipped_notice,
    stored_refusal,
    unavailable,
)
from pipeledger_github.client import GitHubClient
from pipeledger_github.listing import ListingReader

Taken = tuple[list[AuditEvent], dict[str, str]]


class AccessRecorder:
    def __init__(
        self,
        client: GitHubClient,
        instance: str,
        progress: Progress,
        clock: Callable[[], float],
    ) -> None:
        self.progress = progress
        reader = ListingReader(client.api, lambda: progress.update(pages=1), progress.notice)
        self.context = AccessContext(
            client,
            reader,
            instance,
            Refusals(progress.notice),
            lambda: datetime.fromtimestamp(clock(), UTC),
        )
        self.recorded: set[str] = set()  # repositories whose snapshot is taken

    def owner(
        self,
        org: str,
        repositories: Mapping[str, str | None],
        since: datetime | None,
        cursors: CursorReader,
        *,
        is_organization: bool = True,
        concurrency: int = 1,
    ) -> Iterator[Batch]:
        """The organization, then each repository (name -> default branch if known), up to
        ``concurrency`` at once, their batches in that order; the audit log is read after
        the snapshots, so it covers every change they found."""
        taken: list[Taken] = []
        if is_organization:
            self.progress.update(repository=org)
            taken.append(organization_snapshot(self.context, org, cursors))

        def snapshot(item: tuple[str, str | None]) -> Taken:
            return repository_snapshot(self.context, item[0], item[1], cursors)

        taken += _in_order(snapshot, list(repositories.items()), concurrency)
        self.recorded.update(repository.lower() for repository in repositories)
        if is_organization:
            found = [event for events, _ in taken for event in events]
            audit = self._audit(org, _earliest_window(found) or since, bool(found), cursors)
            if audit is not None and (audit.events or audit.cursors):
                yield audit
        for events, stored in taken:
            yield Batch(events=events, cursors=stored)

    def repository(self, repository: str, cursors: CursorReader) -> Iterator[Batch]:
        """A repository named on its own (no audit log: that is read per organization)."""
        if repository.lower() in self.recorded:
            return
        self.progress.update(repository=repository)
        events, stored = repository_snapshot(self.context, repository, None, cursors)
        self.recorded.add(repository.lower())
        yield Batch(events=events, cursors=stored)

    def _audit(
        self, org: str, start: datetime | None, found: bool, cursors: CursorReader
    ) -> Batch | None:
        """``found``: snapshot changes wait for reconciling, so the entries of their window
        are read even if stored before (a 304 would not return them). A refusal is kept in
        the audit-log cursor and not asked again for a while (GitHub sends it without an
        ETag: it would be a counted request on every run)."""
        reader, instance, now = self.context.reader, self.context.instance, self.context.now()
        waiting = stored_refusal(instance, org, cursors, now)
        if waiting is not None:
            self.progress.notice(waiting)
            return None
        try:
            read = read_audit_log(reader, instance, org, start, cursors, conditional=not found)
        except PermissionDenied as refused:
            again = f" It is asked again after {format_time(now + REPROBE)}."
            self.progress.notice(unavailable(org, refused.message, again))
            return Batch(events=[], cursors=refused_cursor(instance, org, cursors, now, refused))
        notice = skipped_notice(org, read.skipped)
        if notice:
            self.progress.notice(notice)
        return Batch(events=read.events, cursors=read.cursors)


def _in_order(
    work: Callable[[tuple[str, str | None]], Taken],
    items: list[tuple[str, str | None]],
    workers: int,
) -> list[Taken]:
    """``work`` of each item, in the items' order, up to ``workers`` at once."""
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pipeledger-snapshot") as pool:
        return list(pool.map(work, items))


def _earliest_window(events: list[AuditEvent]) -> datetime | None:
    starts = [
        parse_time(str(event.attributes["window_start"]))
        for event in events
        if "window_start" in event.attributes
    ]
    return min(starts) if starts else None
