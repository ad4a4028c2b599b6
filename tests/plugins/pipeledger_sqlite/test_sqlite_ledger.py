from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from pipeledger.errors import SinkError
from pipeledger.events import EventKind
from pipeledger.ledger.chain import GENESIS_HASH, link_hash
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import make_event, make_events


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSink:
    return SqliteSink(tmp_path / "ledger.db")


def test_append_chains_records_from_genesis(ledger: SqliteSink) -> None:
    records = ledger.append(make_events(3), {})
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == GENESIS_HASH
    assert records[1].prev_hash == records[0].hash
    assert records[2].hash == link_hash(records[1].hash, 3, records[2].event.canonical_json())
    assert verify_rows(ledger.rows()).ok


def test_redelivered_events_are_not_stored_twice(ledger: SqliteSink) -> None:
    ledger.append(make_events(5), {})
    again = ledger.append([*make_events(5), *make_events(2, start=6)], {})
    assert [r.event.id for r in again] == [e.id for e in make_events(2, start=6)]
    assert ledger.head_seq() == 7


def test_duplicates_inside_one_batch_are_stored_once(ledger: SqliteSink) -> None:
    event = make_event(1)
    assert len(ledger.append([event, event], {})) == 1


def test_cursors_commit_with_the_events(ledger: SqliteSink) -> None:
    ledger.append(make_events(2), {"runs": "2026-01-01T00:00:00Z"})
    assert ledger.cursor("runs") == "2026-01-01T00:00:00Z"
    ledger.append([], {"runs": "2026-02-01T00:00:00Z"})
    assert ledger.cursor("runs") == "2026-02-01T00:00:00Z"
    assert ledger.cursor("missing") is None


def test_a_failed_batch_stores_neither_events_nor_cursor(ledger: SqliteSink) -> None:
    class Exploding(dict[str, str]):
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        ledger.append(make_events(3), Exploding(runs="x"))
    assert ledger.head_seq() == 0
    assert ledger.cursor("runs") is None


def test_records_filter_by_kind_actor_repository_and_time(ledger: SqliteSink) -> None:
    deploy = make_event(50, kind=EventKind.DEPLOYMENT, action="success")
    ledger.append([*make_events(6), deploy], {})
    kinds = [r.event.id for r in ledger.records(EventFilter(kinds=(EventKind.DEPLOYMENT,)))]
    assert kinds == [deploy.id]
    by_actor = list(ledger.records(EventFilter(actor="user1")))
    assert {r.event.actor.login for r in by_actor} == {"user1"}
    assert len(by_actor) == 2
    assert len(list(ledger.records(EventFilter(repository="acme/web")))) == 7
    assert list(ledger.records(EventFilter(repository="acme/api"))) == []
    window = EventFilter(since=make_event(2).occurred_at, until=make_event(4).occurred_at)
    assert [r.seq for r in ledger.records(window)] == [2, 3]


def test_the_database_refuses_updates_and_deletes(ledger: SqliteSink, tmp_path: Path) -> None:
    ledger.append(make_events(2), {})
    db = sqlite3.connect(tmp_path / "ledger.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE events SET actor = 'mallory' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events WHERE seq = 2")


def test_a_file_that_is_not_a_database_is_a_clear_sink_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(SinkError, match="Cannot open the SQLite ledger"):
        SqliteSink(path)


# --- tampering behind the ledger's back -------------------------------------------------


def _tamper(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("DROP TRIGGER events_no_delete")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def _verify(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["verify", "--sink", f"sqlite:///{path}"], environ={}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _body_with(path: Path, seq: int, **changes: object) -> str:
    db = sqlite3.connect(path)
    body = json.loads(db.execute("SELECT body FROM events WHERE seq=?", (seq,)).fetchone()[0])
    db.close()
    body.update(changes)
    return json.dumps(body, sort_keys=True, separators=(",", ":")).replace("'", "''")


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    sink = SqliteSink(path)
    sink.append(make_events(10), {})
    sink.close()
    return path


def test_an_intact_ledger_verifies(filled: Path) -> None:
    code, out, _ = _verify(filled)
    assert code == 0
    assert "10 records verified" in out


@pytest.mark.parametrize(
    ("statements", "bad_seq", "reason"),
    [
        (["UPDATE events SET body = '{}' WHERE seq = 4"], 4, "altered"),
        (["DELETE FROM events WHERE seq = 6"], 7, "removed or inserted"),
        (["DELETE FROM events WHERE seq = 1"], 2, "removed or inserted"),
        (
            [
                "UPDATE events SET seq = 100 WHERE seq = 3",
                "UPDATE events SET seq = 3 WHERE seq = 5",
                "UPDATE events SET seq = 5 WHERE seq = 100",
            ],
            3,
            "removed, inserted or reordered",
        ),
        (["UPDATE events SET actor = 'mallory' WHERE seq = 8"], 8, "indexed column 'actor'"),
        (["UPDATE events SET environment = 'staging' WHERE seq = 2"], 2, "'environment'"),
    ],
    ids=["edit-body", "delete-middle", "delete-first", "reorder", "edit-index", "edit-env"],
)
def test_tampering_is_detected_at_the_first_bad_record(
    filled: Path, statements: list[str], bad_seq: int, reason: str
) -> None:
    _tamper(filled, *statements)
    code, _, err = _verify(filled)
    assert code == 4
    assert f"seq {bad_seq}" in err
    assert reason in err


def test_a_rehashed_edit_still_breaks_the_next_link(filled: Path) -> None:
    forged_body = _body_with(filled, 5, action="cancelled")
    db = sqlite3.connect(filled)
    prev = db.execute("SELECT hash FROM events WHERE seq = 4").fetchone()[0]
    db.close()
    forged_hash = link_hash(prev, 5, forged_body.replace("''", "'"))
    _tamper(
        filled, f"UPDATE events SET body = '{forged_body}', hash = '{forged_hash}' WHERE seq = 5"
    )
    code, _, err = _verify(filled)
    assert code == 4
    assert "seq 6" in err


def test_an_inserted_record_is_detected(filled: Path) -> None:
    db = sqlite3.connect(filled)
    row = db.execute("SELECT * FROM events WHERE seq = 10").fetchone()
    db.close()
    values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in row[1:])
    _tamper(filled, f"INSERT INTO events VALUES (11, {values.replace(row[1], 'x' * 32, 1)})")
    code, _, err = _verify(filled)
    assert code == 4
    assert "seq 11" in err


def test_records_serialize_to_the_same_canonical_json_from_their_stored_body(
    ledger: SqliteSink,
) -> None:
    from pipeledger.events import canonical_json
    from pipeledger.sinks.contract import LedgerRecord

    event = make_event(1, attributes={"comment": "Schön — ship it", "nested": {"b": 1, "a": [2]}})
    ledger.append([event, *make_events(3, start=2)], {})
    for record in ledger.records(EventFilter()):
        assert record.body is not None
        assert record.to_json() == canonical_json(record.to_dict())
        bare = LedgerRecord(record.seq, record.prev_hash, record.hash, record.event)
        assert bare.to_json() == record.to_json()
