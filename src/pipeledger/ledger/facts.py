"""Every event in a ledger as the facts that stand: the one place ``report`` and ``metrics``
read history, so a fact superseded by a later one is dropped once for both.

:func:`facts_for_period` reads only a period and the window around it (the one ``audit``
uses, see :mod:`pipeledger.policy.stream`), so what it holds grows with the period, not with
the ledger; :func:`scope_extents` gives the first and last event of each scope from one
streaming pass that keeps nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeledger.events import AuditEvent, parse_time
from pipeledger.facts import ledger_superseded_ids, without_superseded
from pipeledger.json_codec import loads
from pipeledger.ledger.chain import event_from_body
from pipeledger.policy.audit import collector_paused
from pipeledger.policy.stream import Window
from pipeledger.sinks.contract import EventFilter, Ledger


def ledger_facts(
    ledger: Ledger, since: datetime | None = None, until: datetime | None = None
) -> list[AuditEvent]:
    """The standing facts in chain order; with ``since``/``until`` only those that happened
    in ``[since, until)`` (a fact superseded by one outside that span is still dropped)."""
    with collector_paused():
        if since is None and until is None:
            return standing_facts(record.event for record in ledger.records(EventFilter()))
        gone = ledger_superseded_ids(ledger)
        selection = EventFilter(since=since, until=until)
        return [
            event
            for stored in ledger.stored_bodies(selection)
            if (event := event_from_body(stored.seq, stored.body)).id not in gone
        ]


def facts_for_period(
    ledger: Ledger, start: datetime, end: datetime, window: Window | None = None
) -> list[AuditEvent]:
    """The facts a period's deployments can be joined with: from ``window.reach`` before its
    start (a deployment's look-ahead may cross the start) to ``window.look_ahead`` after its
    end."""
    window = window or Window()
    return ledger_facts(ledger, start - window.reach, end + window.look_ahead)


@dataclass(frozen=True)
class Extent:
    first: datetime
    last: datetime


def scope_extents(ledger: Ledger) -> dict[tuple[str, str, str], Extent]:
    """(platform, instance, repository or owner) -> first and last event the ledger holds,
    superseded events included (they were collected all the same)."""
    first: dict[tuple[str, str, str], str] = {}
    last: dict[tuple[str, str, str], str] = {}
    for stored in ledger.stored_bodies(EventFilter(by_time=True)):
        data = loads(stored.body)
        scope = data["scope"]
        name = f"{scope['owner']}/{scope['repository']}" if scope.get("repository") else ""
        key = (data["platform"], data["instance"], name or scope["owner"])
        first.setdefault(key, data["occurred_at"])
        last[key] = data["occurred_at"]
    return {key: Extent(parse_time(first[key]), parse_time(last[key])) for key in first}


def standing_facts(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The seam where superseded facts are removed (one event per fact, see
    docs/evidence-model.md)."""
    return without_superseded(events)
