"""Collects project and group audit events with keyset pagination, resumably; on tiers or
roles without audit events (403/404) it says so once and the run carries on without them.
An audit event whose id or time cannot be used, or that cannot be normalized, is quarantined;
the stream goes on without it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeledger.plugin import (
    AuditEvent,
    Batch,
    CursorReader,
    Holding,
    PermissionDenied,
    Progress,
    Scope,
    format_time,
)
from pipeledger_gitlab.audit.events import (
    audit_event,
    author_actor,
    author_id,
    classify,
    target_user_id,
)
from pipeledger_gitlab.client import GitLabClient, GitLabNotFound
from pipeledger_gitlab.cursor import Mark, Start, start_from, time_and_id
from pipeledger_gitlab.users import UserDirectory

# Ids grow with insertion but created_at may not, quite: resume a little earlier and let
# the id, which the walk follows, decide what is new.
RESUME_SLACK = timedelta(minutes=5)

Json = Mapping[str, Any]


@dataclass(frozen=True)
class AuditSource:
    """One audit event list: a project's or a group's."""

    path: str
    endpoint: str
    scope: Scope
    cursor_key: str


class AuditStream:
    def __init__(
        self,
        client: GitLabClient,
        instance: str,
        progress: Progress,
        users: UserDirectory | None = None,
    ) -> None:
        self._client = client
        self._instance = instance
        self._progress = progress
        self._users = users or UserDirectory(client)
        self.refused = False
        self._held = Holding("gitlab")

    def batches(
        self,
        source: AuditSource,
        cursors: CursorReader,
        since: datetime | None,
        until: datetime,
    ) -> Iterator[Batch]:
        if self.refused:
            return
        start = start_from(Mark.decode(cursors.cursor(source.cursor_key)), since)
        last_id = max((int(i) for i in start.seen if i.isdigit()), default=0)
        pages = self._client.pages(source.path, self._params(start, until))
        try:
            first = next(pages, [])
        except (PermissionDenied, GitLabNotFound) as error:
            self._refuse(source, error)
            return
        for page in _chain(first, pages):
            self._progress.update(pages=1)
            usable = self._usable(source, page, until)
            fresh = [(item, moment) for item, moment in usable if int(item["id"]) > last_id]
            if not fresh:
                held = self._held.take()
                if held:
                    yield Batch([], {}, held)
                continue
            last_id = max(last_id, *(int(item["id"]) for item, _ in fresh))
            newest = max(moment for _, moment in fresh)
            through = max(newest, start.after) if start.after else newest
            mark = start.mark(through, frozenset({str(last_id)}))
            events = self._events(source, [item for item, _ in fresh])
            yield Batch(events, {source.cursor_key: mark.encode()}, self._held.take())

    def _usable(
        self, source: AuditSource, page: list[Json], until: datetime
    ) -> list[tuple[Json, datetime]]:
        """The page's items with their time; the others are held for the quarantine."""
        usable = []
        for item in page:
            read = time_and_id(item, "created_at", until)
            if isinstance(read, str):
                ident = item.get("id") if isinstance(item, Mapping) else None
                reason = f"the listed audit event is unusable: {read}"
                self._held.hold(source.endpoint, ident, reason, item)
            else:
                usable.append((item, read[0]))
        return usable

    def _params(self, start: Start, until: datetime) -> dict[str, str]:
        params = {
            "pagination": "keyset",
            "order_by": "id",
            "sort": "asc",
            "created_before": format_time(until),
        }
        if start.after is not None:
            after = start.after - RESUME_SLACK if start.resumed else start.after
            params["created_after"] = format_time(after)
        return params

    def _events(self, source: AuditSource, items: list[Json]) -> list[AuditEvent]:
        events = []
        for item in items:
            event = self._held.guard(
                lambda item=item: self._event(source, item),  # type: ignore[misc]
                raw=item,
                endpoint=source.endpoint,
                native_id=item.get("id"),
                what="audit event",
            )
            if event is not None:
                events.append(event)
        return events

    def _event(self, source: AuditSource, item: Json) -> AuditEvent | None:
        if classify(item) is None:
            return None
        actor = author_actor(item, self._user(author_id(item)))
        target = self._user(target_user_id(item))
        return audit_event(self._instance, source.scope, source.endpoint, item, actor, target)

    def _user(self, ident: int | None) -> Json | None:
        """Audit events name their author (and a membership's user) only by id and display
        name; the username comes from the users this run read, or is asked once."""
        return self._users.user(ident)

    def _refuse(self, source: AuditSource, error: PermissionDenied | GitLabNotFound) -> None:
        self.refused = True
        self._progress.notice(
            f"audit events are not available here ({error.message}); they need GitLab Premium"
            " or Ultimate and the Maintainer (project) or Owner (group) role."
            " Permission and protection changes come from snapshots only in this run: who"
            " made them is unknown (actor.type unknown), the window they happened in is"
            " recorded."
        )


def _chain(first: list[Json], rest: Iterator[list[Json]]) -> Iterator[list[Json]]:
    if first:
        yield first
    yield from rest
