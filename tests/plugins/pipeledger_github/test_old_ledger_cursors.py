"""A SQLite ledger made before version 4 keeps its cursors in a table named ``checkpoints``.
Opened by this pipeledger, the rows move to ``cursors`` unchanged: collection and delivery
resume exactly where they were, and the ledger still verifies."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from pipeledger.cli.main import main
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet, checkpoint_delivery_cursor_key, url_delivery_key
from pipeledger_sqlite.sink import SCHEMA_VERSION, SqliteSink
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github.conftest import AdapterFactory, run_collect
from tests.plugins.pipeledger_github.test_collect import seed

# The cursor table exactly as versions up to 3 created it.
OLD_TABLE = """CREATE TABLE IF NOT EXISTS checkpoints (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"""


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def _to_old_layout(path: Path) -> dict[str, str]:
    """Give a ledger the layout versions up to 3 wrote: its cursor rows in ``checkpoints``,
    no ``cursors`` table, schema version 3. Returns the rows."""
    db = sqlite3.connect(path)
    with db:
        db.execute(OLD_TABLE)
        db.execute("INSERT INTO checkpoints SELECT key, value, updated_at FROM cursors")
        db.execute("DROP TABLE cursors")
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    rows = dict(db.execute("SELECT key, value FROM checkpoints").fetchall())
    db.close()
    return rows


def test_an_old_ledger_resumes_collection_and_delivery_from_its_stored_cursors(
    hub: FakeHub, make_adapter: AdapterFactory, tmp_path: Path
) -> None:
    ledger_path, copy_path = tmp_path / "ledger.db", tmp_path / "copy.jsonl"
    urls = [f"sqlite:///{ledger_path}", f"jsonl:///{copy_path}"]
    seed(hub)
    first = SinkSet.open(urls, SinkSettings(environ={}))
    run_collect(make_adapter(), first)
    head = first.ledger.head_seq()
    chain_heads_key = checkpoint_delivery_cursor_key(first.others[0])
    delivered_key = url_delivery_key(first.others[0].display_url)
    first.close()  # sealed the head: its checkpoint went to the copy too
    old = _to_old_layout(ledger_path)
    assert "cursors" not in _tables(ledger_path)
    assert any(key.startswith("github:") for key in old)
    assert old[delivered_key] == str(head)
    assert old[chain_heads_key] == "1"
    copied = copy_path.read_text()

    again = SinkSet.open(urls, SinkSettings(environ={}))
    # Opening moved every row, keys and values unchanged, and dropped the old table.
    assert dict(again.ledger.cursors_with_prefix("")) == old
    assert "checkpoints" not in _tables(ledger_path)
    hub.log.clear()
    adapter = make_adapter()
    summary = run_collect(adapter, again)
    again.close()

    # Collection resumed: nothing new, asked only conditionally (a ledger without its
    # cursors would list and fetch everything again).
    assert summary.stored == 0
    assert [(e.status, e.conditional) for e in hub.log] == [(304, True), (304, True)]
    # Delivery resumed: the copy got nothing twice.
    assert copy_path.read_text() == copied
    with sqlite3.connect(ledger_path) as db:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (SCHEMA_VERSION,)
    out, err = io.StringIO(), io.StringIO()
    code = main(["verify", "--sink", urls[0]], environ={}, stdout=out, stderr=err)
    assert code == 0, err.getvalue()


def test_rows_an_older_pipeledger_wrote_after_the_migration_win(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    ledger = SqliteSink(path)
    ledger.set_cursors({"a": "1", "b": "1"})
    ledger.close()
    with sqlite3.connect(path) as db:  # what an older pipeledger opening the file does
        db.execute(OLD_TABLE)
        db.execute("INSERT INTO checkpoints VALUES ('b', '2', '2026-01-01T00:00:00Z')")
    reopened = SqliteSink(path)
    assert dict(reopened.cursors_with_prefix("")) == {"a": "1", "b": "2"}
    reopened.close()
    assert "checkpoints" not in _tables(path)
