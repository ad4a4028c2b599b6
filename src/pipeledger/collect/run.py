"""Runs an adapter into the ledger: each batch and its cursors are stored atomically,
then fanned out, so a run stopped at any point resumes without loss or duplicates. A change an
audit log and a snapshot difference both saw is stored as one fact (:mod:`pipeledger.facts`).

With ``concurrency`` above 1 and an adapter that can split its collection into scopes
(:meth:`~pipeledger.collect.adapter.Adapter.scoped`), the scopes are fetched by that many
worker threads and still stored here, by this one writer, in the order a serial run stores
them (:mod:`pipeledger.collect._scopes`).

Before a batch is stored, its events are screened (:mod:`pipeledger.event_check`); those
that fail, and the records the adapter could not normalize, go to the ledger's quarantine
first, so one bad record never stops the collection and is never silently dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from pipeledger.collect._scopes import ScopeCursors, ScopeRunner
from pipeledger.collect._shared_progress import SharedProgress
from pipeledger.collect.adapter import Adapter, Batch, CollectRequest, ScopedCollection
from pipeledger.collect.progress import Progress
from pipeledger.errors import SinkError
from pipeledger.event_check import screen
from pipeledger.facts import FactMerger
from pipeledger.ledger.quarantine import QuarantinedRecord, unique
from pipeledger.sinks.contract import Ledger
from pipeledger.sinks.fanout import SinkSet


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
    concurrency: int = 1,
) -> CollectSummary:
    """Pass ``summary`` to keep the counts when the adapter raises part-way."""
    summary = summary if summary is not None else CollectSummary()
    sinks.deliver()
    facts = FactMerger(sinks.ledger)
    for batch in _batches(adapter, request, sinks.ledger, progress, concurrency):
        screened = screen(batch.events)
        held = list(unique([*batch.quarantined, *screened.refused]))
        if held:
            _quarantine(sinks, held, progress, summary)
        stored = sinks.append(facts.merge(screened.valid), batch.cursors)
        summary.batches += 1
        summary.seen += len(batch.events)
        summary.stored += len(stored)
        summary.by_kind.update(record.event.kind.value for record in stored)
        progress.update(events=len(stored))
    return summary


def _batches(
    adapter: Adapter,
    request: CollectRequest,
    ledger: Ledger,
    progress: Progress,
    concurrency: int,
) -> Iterator[Batch]:
    """The adapter's batches; each is stored before the next is asked for."""
    shared = SharedProgress(progress, requests=lambda: _requests(adapter))
    collection = adapter.scoped(request, shared, concurrency)
    if collection is None:
        yield from adapter.collect(request, ledger, progress)
        return
    if concurrency <= 1:
        yield from collection.prepare(ledger)
    else:
        # Readable from any thread: the ledger's cursors, then the prepared batches'.
        readable = ScopeCursors(dict(ledger.cursors_with_prefix("")))
        for batch in collection.prepare(readable):
            readable.made(batch)
            yield batch
    scopes = collection.scopes()
    shared.scopes_begin()
    if concurrency <= 1:
        for done, scope in enumerate(scopes, 1):
            yield from scope.batches(ledger)
            shared.scopes_stored(done, len(scopes))
    else:
        yield from _concurrently(collection, ledger, shared, concurrency)
    collection.finish()


def _concurrently(
    collection: ScopedCollection, ledger: Ledger, progress: SharedProgress, workers: int
) -> Iterator[Batch]:
    scopes = collection.scopes()
    # Read once, here: a ledger connection belongs to the thread that opened it.
    stored = dict(ledger.cursors_with_prefix(""))
    runner = ScopeRunner(
        scopes,
        stored,
        workers,
        on_stored=lambda done: progress.scopes_stored(done, len(scopes)),
    )
    yield from runner.batches()


def _requests(adapter: Adapter) -> int | None:
    counts = adapter.request_counts()
    return None if counts is None else counts.made


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
