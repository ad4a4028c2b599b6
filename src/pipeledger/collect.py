"""Runs an adapter into the ledger: each batch and its checkpoints are stored atomically,
then fanned out, so a run stopped at any point resumes without loss or duplicates. A change an
audit log and a snapshot difference both saw is stored as one fact (:mod:`pipeledger.facts`).

Before a batch is stored, its events are screened (:mod:`pipeledger.event_check`); those
that fail, and the records the adapter could not normalize, go to the ledger's quarantine
first, so one bad record never stops the collection and is never silently dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeledger.adapter import Adapter, CollectRequest
from pipeledger.errors import SinkError
from pipeledger.event_check import screen
from pipeledger.facts import FactMerger
from pipeledger.fanout import SinkSet
from pipeledger.progress import Progress
from pipeledger.quarantine import QuarantinedRecord, unique


@dataclass
class CollectSummary:
    seen: int = 0
    stored: int = 0
    batches: int = 0
    # Newly quarantined this run, and how many were quarantined already by an earlier run.
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    quarantined_again: int = 0
    # New events stored, by kind, for the closing summary.
    by_kind: Counter[str] = field(default_factory=Counter)


def collect_into(
    adapter: Adapter,
    request: CollectRequest,
    sinks: SinkSet,
    progress: Progress,
    summary: CollectSummary | None = None,
) -> CollectSummary:
    """Pass ``summary`` to keep the counts when the adapter raises part-way."""
    summary = summary if summary is not None else CollectSummary()
    sinks.deliver()
    facts = FactMerger(sinks.ledger)
    for batch in adapter.collect(request, sinks.ledger, progress):
        screened = screen(batch.events)
        held = list(unique([*batch.quarantined, *screened.refused]))
        if held:
            _quarantine(sinks, held, progress, summary)
        stored = sinks.append(facts.merge(screened.valid), batch.checkpoints)
        summary.batches += 1
        summary.seen += len(batch.events)
        summary.stored += len(stored)
        summary.by_kind.update(record.event.kind.value for record in stored)
        progress.update(events=len(stored))
    return summary


def _quarantine(
    sinks: SinkSet, held: list[QuarantinedRecord], progress: Progress, summary: CollectSummary
) -> None:
    try:
        new = sinks.ledger.quarantine(held)
    except NotImplementedError:
        raise SinkError(
            f"The ledger {sinks.ledger.display_url} cannot quarantine a record that is not a"
            f" valid event ({held[0].describe()}).",
            "Use a SQLite or PostgreSQL ledger as the first sink.",
        ) from None
    summary.quarantined.extend(new)
    summary.quarantined_again += len(held) - len(new)
    for record in new:
        progress.notice(f"quarantined {record.describe()}")
