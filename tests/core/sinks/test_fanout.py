from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from pipeledger.errors import SinkError
from pipeledger.sinks.contract import LedgerRecord, Sink, SinkSettings
from pipeledger.sinks.fanout import SinkSet, delivery_key
from pipeledger_jsonl.sink import JsonlSink, StdoutSink
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import make_events

SETTINGS = SinkSettings(environ={})


class FlakySink(Sink):
    """Accepts records only while ``up``; remembers every record it accepted."""

    def __init__(self) -> None:
        self.up = True
        self.received: list[LedgerRecord] = []

    @classmethod
    def open(cls, url: str, settings: SinkSettings) -> FlakySink:
        return cls()

    @property
    def display_url(self) -> str:
        return "flaky://test"

    def write(self, records: Sequence[LedgerRecord]) -> None:
        if not self.up:
            raise SinkError("flaky sink is down")
        self.received.extend(records)


def _jsonl_ids(path: Path) -> list[str]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line["event"]["id"] for line in lines if "event" in line]


def test_without_a_ledger_sink_the_default_sqlite_ledger_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sinks = SinkSet.open([f"jsonl:///{tmp_path}/out.jsonl"], SETTINGS)
    sinks.append(make_events(3), {})
    sinks.close()
    assert (tmp_path / "pipeledger.db").exists()
    assert len(_jsonl_ids(tmp_path / "out.jsonl")) == 3


def test_a_failing_sink_does_not_stop_the_others_and_catches_up_later(tmp_path: Path) -> None:
    ledger = SqliteSink(tmp_path / "l.db")
    flaky = FlakySink()
    jsonl = JsonlSink(tmp_path / "copy.jsonl")
    sinks = SinkSet(ledger=ledger, others=[flaky, jsonl])
    sinks.append(make_events(4), {})
    flaky.up = False
    sinks.append(make_events(3, start=5), {})
    assert "flaky://test" in sinks.failures
    assert len(_jsonl_ids(tmp_path / "copy.jsonl")) == 7
    assert [r.seq for r in flaky.received] == [1, 2, 3, 4]

    flaky.up = True
    next_run = SinkSet(ledger=ledger, others=[flaky, jsonl])
    next_run.deliver()
    assert [r.seq for r in flaky.received] == [1, 2, 3, 4, 5, 6, 7]
    assert ledger.cursor(delivery_key(flaky)) == "7"
    assert len(_jsonl_ids(tmp_path / "copy.jsonl")) == 7


def test_jsonl_redelivery_after_a_crash_writes_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "copy.jsonl"
    ledger = SqliteSink(tmp_path / "l.db")
    records = ledger.append(make_events(5), {})
    JsonlSink(path).write(records[:3])
    # The process died before the cursor moved: the next run resends everything.
    SinkSet(ledger=ledger, others=[JsonlSink(path)]).deliver()
    assert _jsonl_ids(path) == [r.event.id for r in records]


def test_a_line_a_killed_write_left_unfinished_is_cut_and_its_records_sent_again(
    tmp_path: Path,
) -> None:
    """SIGKILL in the middle of an append leaves a last line without its newline; the
    delivery cursor never moved past those records, so the next run cuts the line off and
    sends them again — nothing lost, nothing twice."""
    path = tmp_path / "copy.jsonl"
    ledger = SqliteSink(tmp_path / "l.db")
    records = ledger.append(make_events(5), {})
    JsonlSink(path).write(records[:3])
    whole = records[3].to_json() + "\n" + records[4].to_json() + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(whole[: len(whole) // 3])  # the kill lands here
    before = path.read_bytes()
    reopened = JsonlSink(path)
    assert path.read_bytes() == before  # reading (verify --against) changes nothing
    SinkSet(ledger=ledger, others=[reopened]).deliver()
    assert _jsonl_ids(path) == [r.event.id for r in records]
    assert path.read_text(encoding="utf-8").endswith("\n")


def test_a_complete_line_that_is_no_record_is_reported_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "copy.jsonl"
    path.write_text('{"event": {"id": "a"}}\n{"event": {"id"\n{"event": {"id": "b"}}\n')
    with pytest.raises(SinkError, match="Line 2"):
        JsonlSink(path)


def test_stdout_starts_at_the_current_head(tmp_path: Path) -> None:
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(make_events(2), {})
    stream = io.StringIO()
    stdout = StdoutSink(stream)
    sinks = SinkSet(ledger=ledger, others=[stdout])
    sinks._start_live_sinks()
    sinks.append(make_events(1, start=3), {})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [3]
