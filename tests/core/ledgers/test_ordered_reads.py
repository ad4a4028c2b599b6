"""Time-ordered, batched reads (``EventFilter(by_time=True)``, ``Ledger.stored_bodies``): the
order ``audit`` streams history in, the same from SQLite and PostgreSQL and across pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeledger.errors import SinkError
from pipeledger.events import AuditEvent, EventKind
from pipeledger.ledger.chain import event_from_body
from pipeledger.sinks.contract import EventFilter, Ledger, SinkSettings, StoredBody
from pipeledger_postgres import sink as pg_sink
from pipeledger_postgres.sink import PostgresSink
from pipeledger_sqlite import sink as sqlite_sink
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import BASE_TIME
from tests.core.ledgers.factory import make_event

SETTINGS = SinkSettings(environ={}, timeout=5)


def shuffled_history() -> list[AuditEvent]:
    """Chain order differs from time order, with ties in time (broken by seq) and kinds."""
    events = []
    for n in range(1, 61):
        minutes = (n * 37) % 50  # not monotonic in n, and 10 minutes happen twice or more
        kind = EventKind.DEPLOYMENT if n % 3 == 0 else EventKind.PIPELINE_RUN
        events.append(make_event(n, kind=kind, occurred_at=BASE_TIME + timedelta(minutes=minutes)))
    return events


@pytest.mark.parametrize("batch", [2, 3, 1000])
def test_sub_second_times_come_in_time_order_not_text_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """``…:05Z`` sorts after ``…:05.250Z`` as text; the ledger still reads them by time,
    also when one second spans several fetched batches."""
    monkeypatch.setattr(sqlite_sink, "FETCH_BATCH", batch)
    moments = [
        BASE_TIME + timedelta(seconds=5, microseconds=micro)
        for micro in (250_000, 0, 250_100, 999_000, 250_000, 0)
    ]
    events = [make_event(n, occurred_at=at) for n, at in enumerate(moments, start=1)]
    ledger = SqliteSink(tmp_path / "l.db")
    try:
        ledger.append([*events, make_event(9, occurred_at=BASE_TIME + timedelta(seconds=6))], {})
        got = [r.event.occurred_at for r in ledger.records(EventFilter(by_time=True))]
        assert got == sorted(got) and len(got) == 7
        seqs = [r.seq for r in ledger.records(EventFilter(by_time=True))]
        assert seqs == [2, 6, 1, 5, 3, 4, 7]  # equal times keep chain order
    finally:
        ledger.close()


def expected_order(ledger: Ledger, selection: EventFilter) -> list[int]:
    chain = list(ledger.records(EventFilter(**{**selection.__dict__, "by_time": False})))
    return [r.seq for r in sorted(chain, key=lambda r: (r.event.occurred_at, r.seq))]


SELECTIONS = (
    EventFilter(by_time=True),
    EventFilter(by_time=True, kinds=(EventKind.DEPLOYMENT,)),
    EventFilter(
        by_time=True,
        since=BASE_TIME + timedelta(minutes=10),
        until=BASE_TIME + timedelta(minutes=30),
    ),
    EventFilter(by_time=True, after_seq=20),
)


def check_ledger(ledger: Ledger) -> None:
    ledger.append(shuffled_history(), {})
    for selection in SELECTIONS:
        order = expected_order(ledger, selection)
        assert len(order) > 5
        assert [r.seq for r in ledger.records(selection)] == order
        stored = list(ledger.stored_bodies(selection))
        assert [b.seq for b in stored] == order
        by_seq = {r.seq: r for r in ledger.records()}
        for body in stored:
            record = by_seq[body.seq]
            assert body == StoredBody(record.seq, record.event.kind.value, record.body or "")
            assert event_from_body(body.seq, body.body) == record.event
    chain = list(ledger.stored_bodies())
    assert [b.seq for b in chain] == list(range(1, 61))


def test_sqlite_reads_in_time_order_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_sink, "FETCH_BATCH", 7)
    ledger = SqliteSink(tmp_path / "l.db")
    try:
        check_ledger(ledger)
        plan = ledger._db.execute(
            "EXPLAIN QUERY PLAN SELECT seq FROM events WHERE seq > 0 ORDER BY occurred_at, seq"
        ).fetchall()
        assert any("events_time" in str(step) for step in plan)
    finally:
        ledger.close()


@pytest.mark.postgres
def test_postgres_reads_in_time_order_across_pages(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_sink, "PAGE_SIZE", 7)  # ties in time straddle page boundaries
    ledger = PostgresSink.open(postgres_url, SETTINGS)
    try:
        check_ledger(ledger)
    finally:
        ledger.close()


def test_the_default_stored_bodies_builds_from_records(tmp_path: Path) -> None:
    """A ledger that does not override ``stored_bodies`` still answers it (from records)."""

    class Plain(SqliteSink):
        stored_bodies = Ledger.stored_bodies  # type: ignore[assignment]

    ledger = Plain(tmp_path / "l.db")
    try:
        check_ledger(ledger)
    finally:
        ledger.close()


def test_a_body_that_is_not_an_event_is_a_clear_error() -> None:
    for body in ("[1, 2]", "{", '{"id": "x"}'):
        with pytest.raises(SinkError, match="seq 9 is not a pipeledger event"):
            event_from_body(9, body)
