"""Runs an adapter into the ledger: each batch and its checkpoints are stored atomically,
then fanned out, so a run stopped at any point resumes without loss or duplicates. A change an
audit log and a snapshot difference both saw is stored as one fact (:mod:`pipeledger.facts`)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeledger.adapter import Adapter, CollectRequest
from pipeledger.facts import FactMerger
from pipeledger.fanout import SinkSet
from pipeledger.progress import Progress


@dataclass
class CollectSummary:
    seen: int = 0
    stored: int = 0
    batches: int = 0


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
        stored = sinks.append(facts.merge(batch.events), batch.checkpoints)
        summary.batches += 1
        summary.seen += len(batch.events)
        summary.stored += len(stored)
        progress.update(events=len(stored))
    return summary
