"""Snapshots of members, protected environments and protected branches on every collect, on
every GitLab tier: each scope's snapshot is stored in the ledger in the same batch as the
events its difference from the last one implies (the core merges them with what the audit
log recorded, :mod:`pipeledger.facts`). A resource that cannot be read keeps its last state
(no bogus "revoked"), and one that becomes readable starts as a baseline (no invented "added")."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pipeledger.plugin import (
    AuditEvent,
    Batch,
    CursorReader,
    Grant,
    PermissionDenied,
    Progress,
    Protection,
    Scope,
    Snapshot,
    diff_snapshots,
    format_time,
    parse_time,
    snapshot_key,
    snapshot_state,
)
from pipeledger_gitlab.access.terms import ACCESS_TERMS
from pipeledger_gitlab.client import GitLabClient, GitLabNotFound
from pipeledger_gitlab.normalize.access import (
    Json,
    branch_protections,
    environment_protections,
    member_grants,
)
from pipeledger_gitlab.users import UserDirectory

MEMBERS = "members"
ALL_PARTS = (MEMBERS, "environment", "branch")


@dataclass(frozen=True)
class Resource:
    """One list a snapshot reads, and what part of the snapshot it fills."""

    part: str  # "members", or the protection target kind: "environment", "branch"
    label: str
    path: str
    need: str  # what it takes to read it, for the notice


@dataclass(frozen=True)
class SnapshotScope:
    key: str  # "project:<id>" or "group:<id>": ids survive renames
    scope: Scope
    resources: tuple[Resource, ...]


def project_scope(project_id: int, scope: Scope) -> SnapshotScope:
    base = f"/projects/{project_id}"
    return SnapshotScope(
        f"project:{project_id}",
        scope,
        (
            Resource(MEMBERS, "members", f"{base}/members/all", "the Guest role"),
            Resource(
                "environment",
                "protected environments",
                f"{base}/protected_environments",
                "GitLab Premium or Ultimate and the Maintainer role",
            ),
            Resource(
                "branch",
                "protected branches",
                f"{base}/protected_branches",
                "a role that can see the repository settings",
            ),
        ),
    )


def group_scope(group_id: int, full_path: str) -> SnapshotScope:
    path = f"/groups/{group_id}/members/all"
    members = Resource(MEMBERS, "group members", path, "the Guest role in the group")
    return SnapshotScope(f"group:{group_id}", Scope(owner=full_path), (members,))


@dataclass(frozen=True)
class Reading:
    grants: list[Grant]
    protections: list[Protection]
    parts: frozenset[str]  # the parts that could be read


class AccessSnapshots:
    def __init__(
        self,
        client: GitLabClient,
        instance: str,
        progress: Progress,
        clock: Callable[[], datetime],
        users: UserDirectory | None = None,
    ) -> None:
        self._client = client
        self._users = users
        self._instance = instance
        self._progress = progress
        self._clock = clock
        self._refused: set[str] = set()

    def batch(self, target: SnapshotScope, cursors: CursorReader) -> Batch:
        """Read the scope once, diff it against its stored snapshot, and return the events
        with the new snapshot to store (written together or not at all)."""
        key = snapshot_key("gitlab", self._instance, target.key)
        previous = _decode(cursors.cursor(key))
        read_at = _decode_read_times(cursors.cursor(f"{key}:read"), previous)
        started = self._clock()
        reading = self._read(target)
        finished = self._clock()
        fresh = Snapshot.build(
            "gitlab", self._instance, target.key, started, reading.grants, reading.protections
        )
        events = _differences(previous, fresh, read_at, reading.parts, finished)
        read_at.update(dict.fromkeys(reading.parts, started))
        # The latest state, plus a history entry when it changed, so provenance can tell the
        # rules in force at any past moment.
        stored = snapshot_state(previous, _carry(previous, fresh, reading.parts))
        stored[f"{key}:read"] = json.dumps({part: format_time(at) for part, at in read_at.items()})
        return Batch(events, stored)

    def _read(self, target: SnapshotScope) -> Reading:
        grants: list[Grant] = []
        protections: list[Protection] = []
        parts: set[str] = set()
        for resource in target.resources:
            items = self._list(resource)
            if items is None:
                continue
            parts.add(resource.part)
            if resource.part == MEMBERS:
                grants.extend(member_grants(items, target.scope))
                if self._users is not None:
                    self._users.learn(items)  # audit events name people by id only
            elif resource.part == "environment":
                protections.extend(environment_protections(items, target.scope))
            else:
                protections.extend(branch_protections(items, target.scope))
        return Reading(grants, protections, frozenset(parts))

    def _list(self, resource: Resource) -> list[Json] | None:
        self._progress.update(pages=1)
        try:
            return list(self._client.list_all(resource.path))
        except (PermissionDenied, GitLabNotFound) as error:
            self._refuse(resource, error)
            return None

    def _refuse(self, resource: Resource, error: PermissionDenied | GitLabNotFound) -> None:
        if resource.label in self._refused:
            return
        self._refused.add(resource.label)
        self._progress.notice(
            f"{resource.label} cannot be read here ({error.message}); reading them takes"
            f" {resource.need}. Their last snapshot is kept and changes to them are not"
            " recorded until they can be read; everything else is collected."
        )


def _differences(
    previous: Snapshot | None,
    fresh: Snapshot,
    read_at: dict[str, datetime],
    parts: frozenset[str],
    finished: datetime,
) -> list[AuditEvent]:
    """Events for each part read now and before. The window runs from the start of the last
    reading of that part (older than the last snapshot if it could not be read since) to
    the end of this one; a part never read before is a baseline."""
    events: list[AuditEvent] = []
    for part in sorted(parts):
        since = read_at.get(part)
        if previous is not None and since is not None:
            events += diff_snapshots(
                _only(previous, part, since), _only(fresh, part, finished), ACCESS_TERMS
            )
    return events


def _part(item: Grant | Protection) -> str:
    return MEMBERS if isinstance(item, Grant) else item.target.partition(":")[0]


def _carry(previous: Snapshot | None, current: Snapshot, read: frozenset[str]) -> Snapshot:
    """What could not be read now is kept as it was last read."""
    if previous is None:
        return current
    return Snapshot.build(
        current.platform,
        current.instance,
        current.scope_key,
        current.taken_at,
        [*current.grants.values(), *(g for g in previous.grants.values() if _part(g) not in read)],
        [
            *current.protections.values(),
            *(p for p in previous.protections.values() if _part(p) not in read),
        ],
    )


def _only(snapshot: Snapshot, part: str, taken_at: datetime) -> Snapshot:
    """One part of a snapshot, as read at ``taken_at``."""
    return Snapshot.build(
        snapshot.platform,
        snapshot.instance,
        snapshot.scope_key,
        taken_at,
        [g for g in snapshot.grants.values() if _part(g) == part],
        [p for p in snapshot.protections.values() if _part(p) == part],
    )


def _decode(text: str | None) -> Snapshot | None:
    """None for a missing or unreadable snapshot: the next one is then a baseline."""
    if not text:
        return None
    try:
        return Snapshot.from_json(text)
    except (ValueError, KeyError, TypeError):
        return None


def _decode_read_times(text: str | None, previous: Snapshot | None) -> dict[str, datetime]:
    """When each part was last read; without a record, every part as of the snapshot."""
    if previous is None:
        return {}
    try:
        data = json.loads(text) if text else None
        if isinstance(data, dict):
            return {str(part): parse_time(str(at)) for part, at in data.items()}
    except ValueError:
        pass
    return dict.fromkeys(ALL_PARTS, previous.taken_at)
