"""Chain checkpoints in the fan-out: made every N events and at the end of a run, stored in
the ledger and delivered to every sink after the records they cover, each exactly once."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeledger.errors import SinkError
from pipeledger.sinks.contract import ChainCheckpoint, LedgerRecord, Sink, SinkSettings
from pipeledger.sinks.fanout import SinkSet
from pipeledger_jsonl.sink import JsonlSink, StdoutSink
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_events

SETTINGS = SinkSettings(environ={})


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _shape(path: Path) -> list[str]:
    """r<seq> for a record line, c<seq> for a checkpoint line, in file order."""
    shape = []
    for line in _lines(path):
        item = line.get("checkpoint") or line
        assert isinstance(item, dict)
        shape.append(("c" if "checkpoint" in line else "r") + str(item["seq"]))
    return shape


def _fixed_clock() -> datetime:
    return datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _run(tmp_path: Path, batches: int, every: int, start: int = 1) -> SinkSet:
    sinks = SinkSet.open(
        [f"sqlite:///{tmp_path}/l.db", f"jsonl:///{tmp_path}/copy.jsonl"],
        SETTINGS,
        checkpoint_every=every,
    )
    for batch in range(batches):
        sinks.append(make_events(4, start=start + batch * 4), {})
    sinks.close()
    return sinks


def test_checkpoints_every_n_events_and_at_the_end_follow_their_records(
    tmp_path: Path,
) -> None:
    sinks = _run(tmp_path, batches=5, every=6)
    # Batches end at 4, 8, 12, 16, 20: checkpoints once 6 more events are stored, and at 20.
    assert _shape(tmp_path / "copy.jsonl") == [
        *[f"r{n}" for n in range(1, 9)],
        "c8",
        *[f"r{n}" for n in range(9, 13)],
        *[f"r{n}" for n in range(13, 17)],
        "c16",
        *[f"r{n}" for n in range(17, 21)],
        "c20",
    ]
    ledger = SqliteSink(tmp_path / "l.db")
    assert [c.seq for c in ledger.own_checkpoints()] == [8, 16, 20]
    assert all(
        c.chain_id == ledger.chain_id and c.signature is None for c in ledger.own_checkpoints()
    )
    assert ledger.own_checkpoints()[-1].head_hash == ledger.head()[1]
    assert sinks.failures == {}


def test_a_run_that_adds_nothing_writes_no_checkpoint(tmp_path: Path) -> None:
    _run(tmp_path, batches=1, every=100)
    _run(tmp_path, batches=1, every=100)  # the same events again: nothing new
    assert _shape(tmp_path / "copy.jsonl") == ["r1", "r2", "r3", "r4", "c4"]


def test_redelivered_checkpoints_are_stored_once(tmp_path: Path) -> None:
    ledger = SqliteSink(tmp_path / "l.db")
    copy = JsonlSink(tmp_path / "copy.jsonl")
    checkpoint = ChainCheckpoint(1, "a" * 64, _fixed_clock(), chain_id="x")
    for sink in (ledger, copy, ledger, copy):
        sink.write_checkpoint(checkpoint)
    assert list(ledger.stored_checkpoints()) == [checkpoint]
    assert list(JsonlSink(tmp_path / "copy.jsonl").stored_checkpoints()) == [checkpoint]
    # A new process reads what the file holds and still writes nothing twice.
    JsonlSink(tmp_path / "copy.jsonl").write_checkpoint(checkpoint)
    assert len(_lines(tmp_path / "copy.jsonl")) == 1


def test_the_sqlite_ledger_refuses_to_change_checkpoints(tmp_path: Path) -> None:
    _run(tmp_path, batches=1, every=100)
    db = sqlite3.connect(tmp_path / "l.db")
    for statement in ("UPDATE chain_checkpoints SET seq = 1", "DELETE FROM chain_checkpoints"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)


def test_the_chain_id_is_fixed_when_the_ledger_is_created(tmp_path: Path) -> None:
    first = SqliteSink(tmp_path / "l.db").chain_id
    assert SqliteSink(tmp_path / "l.db").chain_id == first
    assert SqliteSink(tmp_path / "other.db").chain_id != first


def test_stdout_prints_checkpoint_lines(tmp_path: Path) -> None:
    stream = io.StringIO()
    ledger = SqliteSink(tmp_path / "l.db")
    sinks = SinkSet(ledger=ledger, others=[StdoutSink(stream)], checkpoint_every=2)
    sinks._start_live_sinks()
    sinks.append(make_events(3), {})
    sinks.close()
    kinds = ["checkpoint" in json.loads(line) for line in stream.getvalue().splitlines()]
    assert kinds == [False, False, False, True]


class NoCheckpointSink(Sink):
    """A plugin that stores records but never implemented checkpoints."""

    def __init__(self) -> None:
        self.received: list[LedgerRecord] = []

    @classmethod
    def open(cls, url: str, settings: SinkSettings) -> NoCheckpointSink:
        return cls()

    @property
    def display_url(self) -> str:
        return "nocp://x"

    def write(self, records: Sequence[LedgerRecord]) -> None:
        self.received.extend(records)


class BrokenSink(NoCheckpointSink):
    @property
    def display_url(self) -> str:
        return "broken://x"

    def write(self, records: Sequence[LedgerRecord]) -> None:
        raise KeyError("password=hunter2")


def test_sinks_that_cannot_take_checkpoints_or_crash_do_not_stop_the_others(
    tmp_path: Path,
) -> None:
    ledger = SqliteSink(tmp_path / "l.db")
    copy = JsonlSink(tmp_path / "copy.jsonl")
    nocp, broken = NoCheckpointSink(), BrokenSink()
    sinks = SinkSet(ledger=ledger, others=[broken, nocp, copy], checkpoint_every=2)
    sinks.append(make_events(3), {})
    sinks.close()
    assert _shape(tmp_path / "copy.jsonl") == ["r1", "r2", "r3", "c3"]
    assert [r.seq for r in nocp.received] == [1, 2, 3]
    assert "write_checkpoint" in sinks.failures["nocp://x"].describe()
    failure = sinks.failures["broken://x"]
    assert isinstance(failure, SinkError)
    assert "KeyError" in failure.describe()
    assert "hunter2" not in failure.describe()
