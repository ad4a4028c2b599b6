"""The ledger plus the sinks it feeds: every record reaches every sink, exactly once where
the sink can tell ids apart.

The ledger is the spool. Each other sink has a delivery cursor (the last seq it took) stored in
the ledger; after every append, and at the start of a run, records past each cursor are sent.
A sink that fails keeps its cursor and catches up on the next run; the others carry on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeledger.errors import SinkError, UsageError
from pipeledger.events import AuditEvent
from pipeledger.redact import redact_url
from pipeledger.registry import load_sink
from pipeledger.sink import EventFilter, Ledger, LedgerRecord, Sink, SinkSettings

DEFAULT_LEDGER_URL = "sqlite:///pipeledger.db"
DELIVERY_CHUNK = 1000


def delivery_key(sink: Sink) -> str:
    return f"delivery:{sink.display_url}"


@dataclass
class SinkSet:
    ledger: Ledger
    others: list[Sink]
    failures: dict[str, SinkError] = field(default_factory=dict)

    @classmethod
    def open(cls, urls: Sequence[str], settings: SinkSettings) -> SinkSet:
        """Open every sink; the first ledger-capable one is the ledger (default SQLite)."""
        sinks = [_open_one(url, settings) for url in urls]
        ledgers = [sink for sink in sinks if isinstance(sink, Ledger)]
        if ledgers:
            ledger = ledgers[0]
        else:
            opened = _open_one(DEFAULT_LEDGER_URL, settings)
            assert isinstance(opened, Ledger)
            ledger = opened
        others = [sink for sink in sinks if sink is not ledger]
        sink_set = cls(ledger=ledger, others=others)
        sink_set._start_live_sinks()
        return sink_set

    def _start_live_sinks(self) -> None:
        """Sinks that cannot replay history (stdout) start at the current head."""
        head = str(self.ledger.head_seq())
        fresh = {
            delivery_key(sink): head
            for sink in self.others
            if not sink.replays_history and self.ledger.checkpoint(delivery_key(sink)) is None
        }
        if fresh:
            self.ledger.set_checkpoints(fresh)

    def append(
        self, events: Sequence[AuditEvent], checkpoints: Mapping[str, str]
    ) -> list[LedgerRecord]:
        records = self.ledger.append(events, checkpoints)
        self.deliver()
        return records

    def deliver(self) -> None:
        for sink in self.others:
            if sink.display_url in self.failures:
                continue
            try:
                self._deliver_to(sink)
            except SinkError as error:
                self.failures[sink.display_url] = error

    def _deliver_to(self, sink: Sink) -> None:
        key = delivery_key(sink)
        cursor = int(self.ledger.checkpoint(key) or 0)
        while cursor < self.ledger.head_seq():
            chunk: list[LedgerRecord] = []
            for record in self.ledger.records(EventFilter(after_seq=cursor)):
                chunk.append(record)
                if len(chunk) >= DELIVERY_CHUNK:
                    break
            if not chunk:
                return
            sink.write(chunk)
            cursor = chunk[-1].seq
            self.ledger.set_checkpoints({key: str(cursor)})

    def close(self) -> None:
        for sink in [self.ledger, *self.others]:
            sink.close()


def _open_one(url: str, settings: SinkSettings) -> Sink:
    sink_class = load_sink(url)
    try:
        return sink_class.open(url, settings)
    except SinkError:
        raise
    except ValueError as error:
        raise UsageError(f"The sink {redact_url(url)} is not valid: {error}.") from error
