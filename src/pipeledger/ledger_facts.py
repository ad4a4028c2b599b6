"""Every event in a ledger as the facts that stand: the one place ``report`` and ``metrics``
read history, so a fact superseded by a later one is dropped once for both."""

from __future__ import annotations

from collections.abc import Iterable

from pipeledger.events import AuditEvent
from pipeledger.facts import without_superseded
from pipeledger.policy.audit import collector_paused
from pipeledger.sink import EventFilter, Ledger


def ledger_facts(ledger: Ledger) -> list[AuditEvent]:
    with collector_paused():
        return standing_facts(record.event for record in ledger.records(EventFilter()))


def standing_facts(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The seam where superseded facts are removed (one event per fact, see
    docs/evidence-model.md)."""
    return without_superseded(events)
