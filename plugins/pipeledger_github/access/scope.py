"""One scope's snapshot (a repository or an organization) assembled resource by resource,
and the events its differences imply.

Each resource (collaborators, environments, …) ends up ``read`` (fresh items), ``same``
(every page answered 304: its previous items stand) or ``unreadable`` (refused: its
previous items stand and nothing is inferred). Changes are found per resource, in the window
since that resource was last read; a resource read for the first time is a baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from pipeledger.plugin import (
    AuditEvent,
    CursorReader,
    Grant,
    PipeledgerError,
    Protection,
    Snapshot,
    diff_snapshots,
    snapshot_key,
    snapshot_state,
)
from pipeledger_github.access.state import FetchState, Pages, ResourceState, fetch_key
from pipeledger_github.access.terms import ACCESS_TERMS
from pipeledger_github.client import Item
from pipeledger_github.listing import Listing, ListingReader, Parse
from pipeledger_github.normalize.fields import PLATFORM

Belongs = Callable[[Grant | Protection], bool]


class Outcome(Enum):
    READ = "read"
    SAME = "same"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Request:
    path: str
    params: Mapping[str, str] | None
    parse: Parse
    paged: bool = True


@dataclass
class Part:
    """One resource's share of the snapshot."""

    name: str
    belongs: Belongs
    outcome: Outcome
    grants: list[Grant] = field(default_factory=list)
    protections: list[Protection] = field(default_factory=list)
    pages: Pages = field(default_factory=dict)
    memo: object = None
    parent: str | None = None  # known parent, new child (a new team): its items are changes
    forget: bool = False  # gone for good (a deleted team): read as empty, then not kept


class ResourceFetch:
    """The requests of one resource: re-checked together, read afresh together."""

    def __init__(self, reader: ListingReader, prior: ResourceState | None) -> None:
        self.reader = reader
        self.prior_pages: Pages = dict(prior.pages) if prior else {}
        self.fresh: dict[str, Listing] = {}
        self.pages: Pages = {}

    def unchanged(self, spec: Callable[[str], Request | None]) -> bool:
        """Every stored page answered 304. Stops at the first change, which is kept for
        :meth:`items`: the resource is read afresh anyway."""
        if not self.prior_pages:
            return False
        for name, tags in self.prior_pages.items():
            request = spec(name)
            if request is None:
                return False
            listing = self.reader.read(
                request.path, request.params, tags, request.parse, paged=request.paged
            )
            if not listing.unchanged:
                self.fresh[name] = listing
                return False
            self.pages[name] = listing.pages
        return True

    def items(self, name: str, request: Request) -> list[Item]:
        listing = self.fresh.pop(name, None)
        if listing is None:
            listing = self.reader.read(
                request.path, request.params, (), request.parse, paged=request.paged
            )
        self.pages[name] = listing.pages
        return listing.items or []


class ScopeSnapshot:
    def __init__(self, instance: str, scope_key: str, cursors: CursorReader, now: datetime) -> None:
        self.instance = instance
        self.scope_key = scope_key
        self.now = now
        stored = cursors.cursor(snapshot_key(PLATFORM, instance, scope_key))
        self.previous = Snapshot.from_json(stored) if stored else None
        self.fetch = FetchState.loads(cursors.cursor(fetch_key(instance, scope_key)))
        self.parts: list[Part] = []

    def prior(self, resource: str) -> ResourceState | None:
        state = self.fetch.resources.get(resource)
        if state is None and self.previous is not None and not self.fetch.present:
            return ResourceState(self.previous.taken_at)
        return state

    def carried(self, part: Part) -> Part:
        """``part`` holding its previous items (for SAME and UNREADABLE)."""
        grants, protections = self._previous_items(part.belongs)
        part.grants, part.protections = grants, protections
        return part

    def add(self, part: Part) -> None:
        self.parts.append(part)

    def result(self) -> tuple[list[AuditEvent], dict[str, str]]:
        """The events of every resource read, and what to store: this snapshot and the fetch
        state."""
        current = Snapshot.build(
            PLATFORM,
            self.instance,
            self.scope_key,
            self.now,
            [g for part in self.parts for g in part.grants],
            [p for part in self.parts for p in part.protections],
        )
        events = [event for part in self.parts for event in self._changes(part)]
        stored = snapshot_state(self.previous, current)
        stored[fetch_key(self.instance, self.scope_key)] = self._fetch_state().dumps()
        return events, stored

    def _changes(self, part: Part) -> list[AuditEvent]:
        if part.outcome is not Outcome.READ:
            return []
        state = self.prior(part.name)
        if state is not None:
            grants, protections = self._previous_items(part.belongs)
            since = state.read_at
        elif part.parent is not None and (parent := self.prior(part.parent)) is not None:
            grants, protections, since = [], [], parent.read_at
        else:
            return []  # a baseline for this resource
        before = Snapshot.build(PLATFORM, self.instance, self.scope_key, since, grants, protections)
        after = Snapshot.build(
            PLATFORM, self.instance, self.scope_key, self.now, part.grants, part.protections
        )
        return diff_snapshots(before, after, ACCESS_TERMS)

    def _previous_items(self, belongs: Belongs) -> tuple[list[Grant], list[Protection]]:
        if self.previous is None:
            return [], []
        grants = [g for g in self.previous.grants.values() if belongs(g)]
        protections = [p for p in self.previous.protections.values() if belongs(p)]
        return grants, protections

    def _fetch_state(self) -> FetchState:
        resources = dict(self.fetch.resources)
        for part in self.parts:
            if part.forget:
                resources.pop(part.name, None)
            elif part.outcome is not Outcome.UNREADABLE:
                resources[part.name] = ResourceState(self.now, part.pages, part.memo)
        return FetchState(resources, present=True)


class Refusals:
    """Each kind of resource the token may not read is reported once per collection."""

    def __init__(self, notice: Callable[[str], None]) -> None:
        self.notice = notice
        self.counts: dict[str, int] = {}

    def note(self, kind: str, where: str, error: PipeledgerError) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.counts[kind] == 1:
            self.notice(
                f"{where}: cannot read {kind}. {error.describe()} Its last known state is kept"
                f" and no change to it is inferred (not repeated for other {kind})."
            )
