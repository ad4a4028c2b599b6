"""The ledger plus the sinks it feeds: every record and chain checkpoint reaches every sink,
in order, exactly once where the sink can tell ids apart.

The ledger is the spool. Each other sink has two delivery cursors stored in the ledger: the
last seq it took and how many of the ledger's checkpoints it took. After every append, and at
the start and end of a run, what lies past each cursor is sent, records first. A sink that
fails keeps its cursors and is retried on the next run or ``pipeledger flush``; the others
carry on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice

from pipeledger.errors import PipeledgerError, SinkError, UsageError
from pipeledger.events import AuditEvent
from pipeledger.ledger.signing import Signer
from pipeledger.redact import redact_url
from pipeledger.registry import load_sink
from pipeledger.sinks.contract import (
    GENESIS_CHECKPOINT,
    ChainCheckpoint,
    EventFilter,
    Ledger,
    LedgerRecord,
    Sink,
    SinkSettings,
)
from pipeledger.sinks.defaults import DEFAULT_CHECKPOINT_EVERY, DEFAULT_LEDGER_URL

DELIVERY_CHUNK = 1000


def delivery_key(sink: Sink) -> str:
    return url_delivery_key(sink.display_url)


def url_delivery_key(display_url: str) -> str:
    """The cursor of the sink shown as ``display_url``, also for one that did not open."""
    return f"delivery:{display_url}"


def checkpoint_delivery_cursor_key(sink: Sink) -> str:
    """The cursor counting the chain checkpoints delivered to ``sink``. The key keeps the
    text existing ledgers store."""
    return f"delivery-checkpoints:{sink.display_url}"


@dataclass(frozen=True)
class DeliveryStatus:
    url: str
    delivered_seq: int
    pending: int
    error: PipeledgerError | None


@dataclass
class SinkSet:
    ledger: Ledger
    others: list[Sink]
    failures: dict[str, PipeledgerError] = field(default_factory=dict)
    signer: Signer | None = None
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    appended: bool = False
    _checkpointed_seq: int = 0

    @classmethod
    def open(
        cls,
        urls: Sequence[str],
        settings: SinkSettings,
        *,
        signer: Signer | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    ) -> SinkSet:
        """Open every sink; the first ledger-capable one is the ledger (default SQLite).

        Only the ledger must open: another sink that cannot (server down) is recorded in
        ``failures`` and receives its records on a later run or flush."""
        ledger_url = next((url for url in urls if issubclass(load_sink(url), Ledger)), None)
        # Only the ledger may refuse to be created (a read-only command); copies always may.
        copies = replace(settings, create_ledger=True)
        sinks: list[Sink] = []
        failures: dict[str, PipeledgerError] = {}
        try:
            for url in urls:
                try:
                    sinks.append(open_sink(url, settings if url == ledger_url else copies))
                except SinkError as error:
                    if url == ledger_url:
                        raise
                    failures[redact_url(url)] = error
            ledger = _pick_ledger(sinks, settings)
        except BaseException:
            for sink in sinks:
                sink.close()
            raise
        others = [sink for sink in sinks if sink is not ledger]
        sink_set = cls(
            ledger=ledger,
            others=others,
            failures=failures,
            signer=signer,
            checkpoint_every=checkpoint_every,
        )
        sink_set._checkpointed_seq = max((c.seq for c in ledger.own_checkpoints()), default=0)
        sink_set._start_live_sinks()
        return sink_set

    def _start_live_sinks(self) -> None:
        """Sinks that cannot replay history (stdout) start at the current head."""
        head = self.ledger.head_seq()
        checkpoints = str(len(self.ledger.own_checkpoints()))
        fresh: dict[str, str] = {}
        for sink in self.others:
            if sink.replays_history or self.ledger.cursor(delivery_key(sink)) is not None:
                continue
            fresh[delivery_key(sink)] = str(head)
            fresh[checkpoint_delivery_cursor_key(sink)] = checkpoints
        if fresh:
            self.ledger.set_cursors(fresh)

    def append(
        self, events: Sequence[AuditEvent], cursors: Mapping[str, str], *, deliver: bool = True
    ) -> list[LedgerRecord]:
        """Store the events and cursors in the ledger, checkpoint the chain when due, and
        (unless ``deliver`` is False, for a caller that fans out on its own schedule) deliver
        to the other sinks."""
        records = self.ledger.append(events, cursors)
        self.appended = self.appended or bool(records)
        if records and records[-1].seq - self._checkpointed_seq >= self.checkpoint_every:
            self._write_checkpoint(records[-1].seq, records[-1].hash)
        if deliver:
            self.deliver()
        return records

    def seal(self) -> ChainCheckpoint | None:
        """Checkpoint the head unless a checkpoint already covers it."""
        seq, head_hash = self.ledger.head()
        if seq <= self._checkpointed_seq:
            return None
        return self._write_checkpoint(seq, head_hash)

    def _write_checkpoint(self, seq: int, head_hash: str) -> ChainCheckpoint:
        last = latest_chained(self.ledger.own_checkpoints())
        checkpoint = ChainCheckpoint(
            seq=seq,
            head_hash=head_hash,
            created_at=self.clock(),
            chain_id=self.ledger.chain_id,
            counter=1 if last is None else (last.counter or 0) + 1,
            previous=GENESIS_CHECKPOINT if last is None else last.digest(),
        )
        if self.signer is not None:
            checkpoint = self.signer.sign(checkpoint)
        self.ledger.write_checkpoint(checkpoint)
        self._checkpointed_seq = seq
        return checkpoint

    def deliver(self) -> None:
        """Send each sink what it lacks; a sink that failed this run waits for the next."""
        waiting = [sink for sink in self.others if sink.display_url not in self.failures]
        checkpoints = self.ledger.own_checkpoints() if waiting else []
        for sink in waiting:
            try:
                self._deliver_to(sink, checkpoints)
            except PipeledgerError as error:
                self.failures[sink.display_url] = error
            except NotImplementedError:
                self.failures[sink.display_url] = SinkError(
                    f"The sink {sink.display_url} cannot store chain checkpoints.",
                    "Its plugin must implement Sink.write_checkpoint; remove the sink or"
                    " upgrade the plugin.",
                )
            except Exception as error:  # one broken plugin must not stop the rest
                self.failures[sink.display_url] = _unexpected(sink, error)

    def _deliver_to(self, sink: Sink, checkpoints: list[ChainCheckpoint]) -> None:
        key = delivery_key(sink)
        cursor = int(self.ledger.cursor(key) or 0)
        while cursor < self.ledger.head_seq():
            chunk = list(islice(self.ledger.records(EventFilter(after_seq=cursor)), DELIVERY_CHUNK))
            if not chunk:
                break
            sink.write(chunk)
            cursor = chunk[-1].seq
            self.ledger.set_cursors({key: str(cursor)})
        self._deliver_checkpoints_to(sink, cursor, checkpoints)

    def _deliver_checkpoints_to(
        self, sink: Sink, delivered_seq: int, checkpoints: list[ChainCheckpoint]
    ) -> None:
        """Checkpoints go out in stored order, each only once the records it covers have."""
        key = checkpoint_delivery_cursor_key(sink)
        done = int(self.ledger.cursor(key) or 0)
        for checkpoint in checkpoints[done:]:
            if checkpoint.seq > delivered_seq:
                return
            sink.write_checkpoint(checkpoint)
            done += 1
            self.ledger.set_cursors({key: str(done)})

    def flush(self) -> list[DeliveryStatus]:
        """Retry every open sink, failed ones included, after sealing the head; report each
        (a sink that did not open stays failed)."""
        opened = {sink.display_url for sink in self.others}
        for url in opened & set(self.failures):
            del self.failures[url]
        self.seal()
        self.deliver()
        return self.status()

    def status(self) -> list[DeliveryStatus]:
        """Every sink's position, those that did not even open included."""
        head = self.ledger.head_seq()
        urls = [sink.display_url for sink in self.others]
        urls += [url for url in self.failures if url not in urls and url != self.ledger.display_url]
        statuses = []
        for url in urls:
            delivered = int(self.ledger.cursor(url_delivery_key(url)) or 0)
            statuses.append(
                DeliveryStatus(url, delivered, head - delivered, self.failures.get(url))
            )
        return statuses

    def close(self) -> None:
        """End of a run: checkpoint what this run added and deliver it, then release all.
        Never raises for a sink; failures land in ``failures`` for the caller to report."""
        try:
            if self.appended:
                self.seal()
                self.deliver()
        except PipeledgerError as error:
            self.failures[self.ledger.display_url] = error
        finally:
            for sink in [self.ledger, *self.others]:
                sink.close()


def latest_chained(checkpoints: Sequence[ChainCheckpoint]) -> ChainCheckpoint | None:
    """The format-2 checkpoint with the highest counter (the one the next one follows)."""
    chained = [c for c in checkpoints if c.counter is not None]
    return max(chained, key=lambda c: (c.counter or 0, c.seq), default=None)


def _pick_ledger(sinks: list[Sink], settings: SinkSettings) -> Ledger:
    ledgers = [sink for sink in sinks if isinstance(sink, Ledger)]
    if ledgers:
        return ledgers[0]
    opened = open_sink(DEFAULT_LEDGER_URL, settings)
    assert isinstance(opened, Ledger)
    return opened


def open_sink(url: str, settings: SinkSettings) -> Sink:
    sink_class = load_sink(url)
    try:
        return sink_class.open(url, settings)
    except PipeledgerError:
        raise
    except ValueError as error:
        raise UsageError(f"The sink {redact_url(url)} is not valid: {error}.") from error


def _unexpected(sink: Sink, error: Exception) -> SinkError:
    # The message of a foreign exception may carry a secret; only its type is shown.
    failure = SinkError(
        f"The sink {sink.display_url} failed unexpectedly ({type(error).__name__}).",
        "This is a bug in its plugin; please report it. Its events stay in the ledger and"
        " are delivered on the next run.",
    )
    failure.__cause__ = error
    return failure
