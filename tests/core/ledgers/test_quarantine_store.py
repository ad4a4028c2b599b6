"""The quarantine table, the same on both ledgers: records kept once by fingerprint, raw text
that no store could otherwise hold (lone surrogates) kept as escapes, append-only; and the
migration that adds it to a ledger made by an older pipeledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeledger.ledger.quarantine import RAW_LIMIT, quarantined
from pipeledger.sinks.contract import Ledger, SinkSettings
from pipeledger_sqlite.sink import SCHEMA_VERSION, SqliteSink
from tests.core.ledgers.factory import make_events

SETTINGS = SinkSettings(environ={}, timeout=5)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        opened: Ledger = SqliteSink(tmp_path / "l.db")
    else:
        from pipeledger_postgres.sink import PostgresSink

        opened = PostgresSink.open(request.getfixturevalue("postgres_url"), SETTINGS)
    yield opened
    opened.close()


def _record(native_id: str, raw: Any) -> Any:
    return quarantined("github", "/repos/{owner}/{repo}/actions/runs", native_id, "bad", raw)


def test_a_record_is_quarantined_once_with_its_raw_text(ledger: Ledger) -> None:
    poisoned = {"id": 1, "display_title": "x \ud800 y", "status": ""}
    first = ledger.quarantine([_record("1", poisoned), _record("2", {"id": 2})])
    again = ledger.quarantine([_record("1", poisoned)])
    assert [r.native_id for r in first] == ["1", "2"]
    assert again == []
    stored = list(ledger.quarantined())
    assert [r.native_id for r in stored] == ["1", "2"]
    assert "\\ud800" in stored[0].raw  # escaped, so every store can hold it
    assert stored[0] == first[0]


def test_an_oversized_record_is_cut_and_says_so(ledger: Ledger) -> None:
    [kept] = ledger.quarantine([_record("big", {"log": "x" * (RAW_LIMIT * 2)})])
    assert len(kept.raw) < RAW_LIMIT + 100
    assert '"truncated_from":' in kept.raw
    assert list(ledger.quarantined()) == [kept]


def test_sqlite_quarantine_is_separate_from_the_chain(tmp_path: Path) -> None:
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(make_events(3), {})
    ledger.quarantine([_record("1", {"id": 1})])
    assert ledger.head_seq() == 3
    ledger.close()


def test_an_older_sqlite_ledger_gains_the_quarantine_and_checkpoint_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE chain_checkpoints (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL"
        " UNIQUE, chain_id TEXT, seq INTEGER NOT NULL, head_hash TEXT NOT NULL, created_at TEXT"
        " NOT NULL, key_id TEXT, signature TEXT);"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '2');"
    )
    old.close()
    ledger = SqliteSink(path)
    ledger.quarantine([_record("1", {"id": 1})])
    ledger.close()
    db = sqlite3.connect(path)
    columns = {row[1] for row in db.execute("PRAGMA table_info(chain_checkpoints)")}
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    db.close()
    assert {"counter", "previous"} <= columns
    assert version == (SCHEMA_VERSION,)


@pytest.mark.postgres
def test_postgres_quarantine_is_append_only(postgres_url: str, postgres_admin: Any) -> None:
    import psycopg

    from pipeledger_postgres.sink import PostgresSink

    ledger = PostgresSink.open(postgres_url, SETTINGS)
    ledger.quarantine([_record("1", {"id": 1})])
    ledger.close()
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        postgres_admin.execute("DELETE FROM pipeledger_quarantine")
