"""One change, one fact.

A permission or protection change can reach the ledger twice: from an audit log (or a
webhook), which knows who made it and when, and from a snapshot difference, which knows the
state before and after but not who. Whichever arrives first — in one run or in different
runs — the ledger ends up with one fact carrying the actor and time of the audit log and the
``from``/``to`` of the snapshot difference.

The ledger is append-only, so an event is never removed: a later event names the earlier
ones it replaces in ``supersedes``. Everything that reads the ledger to say what happened
(``events``, ``audit``, ``provenance``, ``anomalies``, ``report``) reads it through
:func:`without_superseded` or :func:`current_records`; ``events --all`` shows both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import Any

from pipeledger.events import AuditEvent, EventKind, Source, event_id
from pipeledger.ledger.chain import event_from_body
from pipeledger.sinks.contract import EventFilter, Ledger, LedgerRecord
from pipeledger.snapshots import same_change

# The kinds two sources can both record; only they ever carry ``supersedes``.
FACT_KINDS = (EventKind.PERMISSION_CHANGE, EventKind.PROTECTION_CHANGE)
SNAPSHOT_DIFF = "snapshot-diff"


def superseded_ids(events: Iterable[AuditEvent]) -> frozenset[str]:
    """Ids some event among ``events`` replaces."""
    return frozenset(ident for event in events for ident in event.supersedes)


def without_superseded(
    events: Iterable[AuditEvent], superseded: AbstractSet[str] | None = None
) -> list[AuditEvent]:
    """The events that stand, in their order. Pass ``superseded`` (from
    :func:`ledger_superseded_ids`) when ``events`` is a filtered part of a ledger: the
    superseding event may lie outside the filter."""
    listed = list(events)
    gone = superseded if superseded is not None else superseded_ids(listed)
    if not gone:
        return listed
    return [event for event in listed if event.id not in gone]


def ledger_superseded_ids(ledger: Ledger) -> frozenset[str]:
    """Every id the ledger's events replace; reads only the kinds that can replace one, and
    parses only the bodies that mention ``supersedes``."""
    gone: set[str] = set()
    for stored in ledger.stored_bodies(EventFilter(kinds=FACT_KINDS)):
        if '"supersedes":' in stored.body:
            gone.update(event_from_body(stored.seq, stored.body).supersedes)
    return frozenset(gone)


def current_records(
    ledger: Ledger, selection: EventFilter, *, include_superseded: bool = False
) -> Iterator[LedgerRecord]:
    """The ledger's records that ``selection`` matches, without superseded ones unless asked."""
    gone = frozenset() if include_superseded else ledger_superseded_ids(ledger)
    return (record for record in ledger.records(selection) if record.event.id not in gone)


def is_snapshot_diff(event: AuditEvent) -> bool:
    return event.attributes.get("detected_by") == SNAPSHOT_DIFF


def is_attributed(event: AuditEvent) -> bool:
    """A permission or protection change with a known actor (audit log, webhook); a bypass
    of protection is not a change of it, and never stands for one."""
    return (
        event.kind in FACT_KINDS
        and event.actor.login is not None
        and not is_snapshot_diff(event)
        and event.action != "bypassed"
    )


def merged(attributed: AuditEvent, diff: AuditEvent, *, keep_id: bool) -> AuditEvent:
    """The one fact: who and when from ``attributed``; from/to, the setting and its
    strength from ``diff``.

    ``keep_id``: the attributed event is not stored yet, so the fact takes its id and
    replaces only the diff; otherwise the fact is a new event (deterministic id) replacing
    both."""
    attributes: dict[str, Any] = {
        **{k: v for k, v in diff.attributes.items() if k != "detected_by"},
        **attributed.attributes,
        "confirmed_by": SNAPSHOT_DIFF,
    }
    fact = replace(
        attributed,
        # The difference knows the exact setting and whether it got weaker or stronger.
        action=diff.action if attributed.action == "changed" else attributed.action,
        target={**(diff.target or {}), **(attributed.target or {})},
        change=dict(diff.change) if diff.change else attributed.change,
        attributes=attributes,
        supersedes=(diff.id,) if keep_id else (attributed.id, diff.id),
    )
    if keep_id:
        return fact
    source = Source(
        attributed.source.endpoint, f"{attributed.source.native_id}|confirmed-by:{diff.id}"
    )
    ident = event_id(fact.platform, fact.instance, source.endpoint, source.native_id)
    return replace(fact, id=ident, source=source)


class FactMerger:
    """Applied to each batch before it is stored: checks every permission or protection
    change against what the ledger and this run already hold, and returns the batch with
    duplicates dropped and merged facts in their place."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._loaded = False
        self._ids: set[str] = set()  # stored, or about to be
        self._superseded: set[str] = set()
        self._attributed: dict[tuple[str, str, str], list[AuditEvent]] = {}
        self._diffs: dict[tuple[str, str, str], list[AuditEvent]] = {}

    def merge(self, events: Sequence[AuditEvent]) -> list[AuditEvent]:
        if not any(event.kind in FACT_KINDS for event in events):
            return list(events)
        self._load()
        out: list[AuditEvent] = []
        for event in events:
            if event.kind not in FACT_KINDS or event.id in self._ids:
                out.append(event)  # not a change two sources see, or stored already
                continue
            if event.id in self._superseded:
                continue  # a difference a stored fact already stands for
            for fact in self._facts(event):
                self._ids.add(fact.id)
                self._superseded.update(fact.supersedes)
                out.append(fact)
        return out

    def _facts(self, event: AuditEvent) -> list[AuditEvent]:
        if is_snapshot_diff(event):
            return self._diff_facts(event)
        if not is_attributed(event):
            return [event]
        diffs = [d for d in self._candidates(self._diffs, event) if same_change(d, event)]
        for diff in diffs:
            self._forget(self._diffs, diff)
        self._remember(self._attributed, event)
        if len(diffs) == 1:
            return [merged(event, diffs[0], keep_id=True)]
        # One entry naming no setting ("protection rule updated") for several settings the
        # snapshots saw change: the entry is kept, and each setting becomes its own fact.
        return [event, *(merged(event, diff, keep_id=False) for diff in diffs)]

    def _diff_facts(self, diff: AuditEvent) -> list[AuditEvent]:
        matches = [k for k in self._candidates(self._attributed, diff) if same_change(diff, k)]
        known = max(matches, key=lambda event: event.occurred_at, default=None)
        if known is None:
            self._remember(self._diffs, diff)
            return [diff]
        if _says_the_same(known, diff):
            return []  # the audit log already holds the whole fact
        return [merged(known, diff, keep_id=False)]

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        stored = [r.event for r in self._ledger.records(EventFilter(kinds=FACT_KINDS))]
        self._ids.update(event.id for event in stored)
        self._superseded.update(superseded_ids(stored))
        for event in without_superseded(stored):
            if is_snapshot_diff(event):
                self._remember(self._diffs, event)
            elif is_attributed(event):
                self._remember(self._attributed, event)

    def _candidates(
        self, table: dict[tuple[str, str, str], list[AuditEvent]], event: AuditEvent
    ) -> list[AuditEvent]:
        found = {each.id: each for key in _keys(event) for each in table.get(key, ())}
        return list(found.values())

    def _remember(
        self, table: dict[tuple[str, str, str], list[AuditEvent]], event: AuditEvent
    ) -> None:
        for key in _keys(event):
            table.setdefault(key, []).append(event)

    def _forget(
        self, table: dict[tuple[str, str, str], list[AuditEvent]], event: AuditEvent
    ) -> None:
        for key in _keys(event):
            table[key] = [each for each in table.get(key, ()) if each.id != event.id]


def _keys(event: AuditEvent) -> list[tuple[str, str, str]]:
    """Index keys: the kind and who or what the change is about (what matching requires)."""
    target = event.target or {}
    return [
        (event.kind.value, name, str(target[name]))
        for name in ("login", "name")
        if target.get(name)
    ]


def _says_the_same(known: AuditEvent, diff: AuditEvent) -> bool:
    """The attributed event's from/to already equal the difference's."""
    mine, seen = known.change or {}, diff.change or {}
    return (
        "from" in mine
        and "to" in mine
        and (mine["from"], mine["to"])
        == (
            seen.get("from"),
            seen.get("to"),
        )
    )
