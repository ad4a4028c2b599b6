"""The PostgreSQL ledger against the real server: the same contract as SQLite, plus what a
shared server adds (append-only enforced by the database, concurrent writers, grants)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeledger.events import EventKind
from pipeledger.ledger.chain import GENESIS_HASH, link_hash
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.sinks.contract import ChainCheckpoint, EventFilter, SinkSettings
from pipeledger_postgres import sink as pg_sink
from pipeledger_postgres.sink import PostgresSink, connection_target
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_event, make_events

SETTINGS = SinkSettings(environ={}, timeout=5)
pytestmark = pytest.mark.postgres


@pytest.fixture
def ledger(postgres_url: str) -> Any:
    sink = PostgresSink.open(postgres_url, SETTINGS)
    yield sink
    sink.close()


def test_round_trip_matches_the_sqlite_ledger(ledger: PostgresSink, tmp_path: Path) -> None:
    events = make_events(40)
    stored = ledger.append(events, {"runs": "2026-03-02T10:40:00Z"})
    reference = SqliteSink(tmp_path / "ref.db")
    expected = reference.append(events, {})
    assert stored == expected  # same seqs, links and hashes as SQLite
    assert list(ledger.records()) == expected
    assert ledger.cursor("runs") == "2026-03-02T10:40:00Z"
    assert ledger.head() == (40, expected[-1].hash)
    assert verify_rows(ledger.rows()).ok
    selections = [
        EventFilter(kinds=(EventKind.DEPLOYMENT,)),
        EventFilter(actor="user1", repository="acme/api"),
        EventFilter(environment="production"),
        EventFilter(since=events[4].occurred_at, until=events[9].occurred_at),
        EventFilter(after_seq=37),
    ]
    for selection in selections:
        assert list(ledger.records(selection)) == list(reference.records(selection))


def test_no_plan_made_on_a_young_ledger_is_kept_as_it_grows(ledger: PostgresSink) -> None:
    """Prepared statements keep a generic plan: one made while the ledger was nearly empty
    (a sequential scan for the stored-ids check) would be reused on millions of rows. Many
    appends later, nothing is prepared on the ledger's connection."""
    for batch in range(12):
        ledger.append(make_events(3, start=1 + 3 * batch), {"runs": str(batch)})
        ledger.head()
    prepared = ledger._db.execute("SELECT statement FROM pg_prepared_statements").fetchall()
    assert prepared == []
    assert ledger.head_seq() == 36


def test_reads_page_through_large_results(
    ledger: PostgresSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_sink, "PAGE_SIZE", 7)
    ledger.append(make_events(30), {})
    assert [r.seq for r in ledger.records()] == list(range(1, 31))
    assert [r.seq for r in ledger.rows()] == list(range(1, 31))
    assert verify_rows(ledger.rows()).checked == 30


def test_redelivery_is_a_no_op(ledger: PostgresSink) -> None:
    ledger.append(make_events(5), {})
    assert ledger.append(make_events(5), {}) == []
    again = ledger.append([*make_events(5), make_event(6), make_event(6)], {})
    assert [r.seq for r in again] == [6]
    assert ledger.head_seq() == 6
    assert verify_rows(ledger.rows()).ok


def test_the_database_refuses_updates_deletes_and_truncate(
    ledger: PostgresSink, postgres_admin: psycopg.Connection[Any]
) -> None:
    ledger.append(make_events(3), {})
    ledger.write_checkpoint(ChainCheckpoint(3, ledger.head()[1], datetime.now(UTC)))
    statements = [
        "UPDATE pipeledger_events SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM pipeledger_events WHERE seq = 3",
        "TRUNCATE pipeledger_events",
        "UPDATE pipeledger_chain_checkpoints SET seq = 1",
        "DELETE FROM pipeledger_chain_checkpoints",
    ]
    for statement in statements:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            postgres_admin.execute(statement)  # even a superuser is refused
    assert ledger.head_seq() == 3
    assert len(list(ledger.stored_checkpoints())) == 1


def test_two_concurrent_writers_keep_one_valid_chain(
    postgres_url: str, ledger: PostgresSink
) -> None:
    # Both writers send overlapping ids, as two collectors of one org would.
    def writer(offset: int, failures: list[BaseException]) -> None:
        try:
            sink = PostgresSink.open(postgres_url, SETTINGS)
            for batch in range(15):
                start = 1 + batch * 20 + offset
                sink.append(make_events(25, start=start), {f"writer{offset}": str(batch)})
            sink.close()
        except BaseException as error:
            failures.append(error)

    failures: list[BaseException] = []
    threads = [threading.Thread(target=writer, args=(n * 10, failures)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    report = verify_rows(ledger.rows())
    assert report.ok, report.first_break
    ids = [r.event.id for r in ledger.records()]
    assert len(ids) == len(set(ids)) == 315  # events 1..315, each exactly once
    assert [r.seq for r in ledger.records()] == list(range(1, 316))


def test_writers_that_start_together_on_a_new_schema_create_it_once(postgres_url: str) -> None:
    barrier = threading.Barrier(3)
    failures: list[BaseException] = []

    def opener() -> None:
        barrier.wait()
        try:
            PostgresSink.open(postgres_url, SETTINGS).close()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=opener) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_tampering_behind_the_ledgers_back_is_detected(
    ledger: PostgresSink, postgres_admin: psycopg.Connection[Any]
) -> None:
    ledger.append(make_events(10), {})
    postgres_admin.execute("SET session_replication_role = replica")  # skips triggers
    postgres_admin.execute("UPDATE pipeledger_events SET actor = 'mallory' WHERE seq = 4")
    report = verify_rows(ledger.rows())
    assert report.first_break is not None
    assert report.first_break.seq == 4
    assert "'actor'" in report.first_break.reason
    postgres_admin.execute(
        "UPDATE pipeledger_events SET occurred_at = occurred_at + interval '1 second' WHERE seq = 2"
    )
    first = verify_rows(ledger.rows()).first_break
    assert first is not None
    assert (first.seq, "'occurred_at'" in first.reason) == (2, True)


def test_a_forged_record_with_a_recomputed_hash_breaks_the_next_link(
    ledger: PostgresSink, postgres_admin: psycopg.Connection[Any]
) -> None:
    records = ledger.append(make_events(6), {})
    forged = records[2].event.canonical_json().replace("completed", "cancelled")
    digest = link_hash(records[1].hash, 3, forged)
    postgres_admin.execute("SET session_replication_role = replica")
    postgres_admin.execute(
        "UPDATE pipeledger_events SET body = %s, hash = %s WHERE seq = 3", (forged, digest)
    )
    first = verify_rows(ledger.rows()).first_break
    assert first is not None
    assert first.seq == 4


def test_checkpoints_are_stored_once_and_kept_apart_by_chain(
    ledger: PostgresSink, postgres_url: str
) -> None:
    ledger.append(make_events(3), {})
    own = ChainCheckpoint(3, ledger.head()[1], datetime.now(UTC), chain_id=ledger.chain_id)
    foreign = ChainCheckpoint(9, "f" * 64, datetime.now(UTC), "k", "c2ln", "another-ledger")
    for checkpoint in (own, foreign, own, foreign):
        ledger.write_checkpoint(checkpoint)
    assert list(ledger.stored_checkpoints()) == [own, foreign]
    assert ledger.own_checkpoints() == [own]
    reopened = PostgresSink.open(postgres_url, SETTINGS)
    assert reopened.chain_id == ledger.chain_id
    reopened.close()


def test_an_empty_ledger(ledger: PostgresSink) -> None:
    assert ledger.head() == (0, GENESIS_HASH)
    assert ledger.head_seq() == 0
    assert list(ledger.records()) == []
    assert ledger.append([], {}) == []
    assert ledger.cursor("x") is None


def test_schema_is_created_once_with_a_version(
    postgres_url: str, postgres_admin: psycopg.Connection[Any]
) -> None:
    for _ in range(2):
        PostgresSink.open(postgres_url, SETTINGS).close()
    rows = postgres_admin.execute("SELECT version FROM pipeledger_schema_version").fetchall()
    assert rows == [(1,), (2,), (3,)]


def test_schema_from_search_path_option(
    postgres_server: str, postgres_admin: psycopg.Connection[Any], postgres_schema: str
) -> None:
    postgres_admin.execute(f'CREATE SCHEMA "{postgres_schema}"')
    url = f"{postgres_server}?options=-csearch_path%3D{postgres_schema}"
    sink = PostgresSink.open(url, SETTINGS)
    sink.append(make_events(2), {})
    sink.close()
    count = postgres_admin.execute("SELECT count(*) FROM pipeledger_events").fetchone()
    assert count == (2,)


def test_url_handling_keeps_secrets_out_of_the_display_url() -> None:
    target, schema = connection_target(
        "postgres://app:hunter2@db.example:5432/audit?schema=ledger&sslmode=require"
    )
    assert target == "postgresql://app:hunter2@db.example:5432/audit?sslmode=require"
    assert schema == "ledger"


def test_both_sql_ledgers_share_one_filter_translation() -> None:
    from pipeledger.ledger.sql import event_conditions

    selection = EventFilter(kinds=(EventKind.DEPLOYMENT, EventKind.PIPELINE_RUN), actor="ann")
    clauses, params = event_conditions(selection, "%s", lambda moment: moment)
    assert clauses == ["kind IN (%s, %s)", "actor = %s"]
    assert params == ["deployment", "pipeline.run", "ann"]
