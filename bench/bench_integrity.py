"""What the integrity checks cost: the event screen (``pipeledger.event_check``) per event, and
SQLite append throughput through the fan-out with format-2 (chained) checkpoints, against its
target of 20,000 events/s (docs/bench/ledgers.md)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.bench_ledgers import EVENTS, fill, make_events
from pipeledger.event_check import screen
from pipeledger.events import AuditEvent


def main() -> None:
    events = make_events(EVENTS)
    best = min(_timed_screen(events) for _ in range(3))
    print(f"screen {len(events)} events: {best / len(events) * 1e6:.1f} µs/event")
    rates = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            elapsed = fill(f"sqlite:///{Path(folder) / 'bench.db'}", events, None)
        rates.append(len(events) / elapsed)
    runs = ", ".join(f"{rate:,.0f}" for rate in rates)
    print(
        f"sqlite: append {len(events)} events: best {max(rates):,.0f} events/s"
        f" (runs: {runs}; target >= 20,000)"
    )


def _timed_screen(events: list[AuditEvent]) -> float:
    start = time.perf_counter()
    screened = screen(events)
    elapsed = time.perf_counter() - start
    assert not screened.refused
    return elapsed
