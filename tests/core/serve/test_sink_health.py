"""A sink other than the ledger that fails while ``serve`` runs: its events wait in the
ledger (nothing is lost), ``/metrics`` shows it down, the log says so once, and once it is back
it gets everything, in order, and the log says that too."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeledger.serve import _writer as writer_module
from pipeledger.serve._metrics import ServeMetrics
from pipeledger.serve._writer import LedgerWriter
from pipeledger.serve.server import SinkHealth
from pipeledger.sinks.fanout import SinkSet
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import make_events
from tests.core.sinks.test_fanout import FlakySink

DOWN = 'pipeledger_sink_up{sink="flaky://test"} 0.0'
UP = 'pipeledger_sink_up{sink="flaky://test"} 1.0'


def delivered(writer: LedgerWriter) -> None:
    """Wait until the fan-out after the last commit has run: a commit is answered before its
    delivery, and the writer thread takes the next job only when that delivery is done."""
    writer.call(lambda ledger: None)


def test_a_failing_sink_is_shown_and_logged_and_catches_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(writer_module, "DELIVER_EVERY", 0.0)  # deliver after every commit
    flaky = FlakySink()
    flaky.up = False
    metrics = ServeMetrics()
    health = SinkHealth(metrics)
    writer = LedgerWriter(
        lambda: SinkSet(ledger=SqliteSink(tmp_path / "l.db"), others=[flaky]),
        on_batch=metrics.batch_committed,
        on_sinks=health.update,
    )
    events = make_events(6)
    caplog.set_level(logging.WARNING, logger="pipeledger.serve")
    writer.start()
    try:
        writer.commit_blocking(events[:2], {})
        writer.commit_blocking(events[2:4], {})
        delivered(writer)
        down = metrics.render().decode()
        failures = [r.getMessage() for r in caplog.records]
        flaky.up = True
        writer.commit_blocking(events[4:], {})
        delivered(writer)
        up = metrics.render().decode()
    finally:
        writer.stop()
    assert DOWN in down and UP not in down
    assert len(failures) == 1  # said once, not once a second
    assert "flaky://test failed: flaky sink is down" in failures[0]
    assert "wait in the ledger" in failures[0]
    assert UP in up
    assert "flaky://test works again" in caplog.records[-1].getMessage()
    assert [record.event.id for record in flaky.received] == [event.id for event in events]
