"""SQLite ledger: events with their chain links, cursors and chain checkpoints, in one file.

Triggers refuse UPDATE and DELETE on events and chain checkpoints; ``verify`` catches anyone
who drops them. The cursors (where collection and delivery resume) live in the ``cursors``
table; ledgers made before version 4 kept them in a table named ``checkpoints``, whose rows
move over when the file is opened.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pipeledger.plugin import (
    GENESIS_HASH,
    INDEXED_COLUMNS,
    AuditEvent,
    ChainCheckpoint,
    EventFilter,
    Ledger,
    LedgerNotFound,
    LedgerRecord,
    QuarantinedRecord,
    SinkError,
    SinkSettings,
    StoredBody,
    StoredRow,
    canonical_json,
    checkpoint_from_row,
    event_conditions,
    format_time,
    new_rows,
    quarantine_values,
    record_from_row,
    unique_by_id,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    actor TEXT,
    repository TEXT,
    environment TEXT,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind_time ON events (kind, occurred_at);
CREATE INDEX IF NOT EXISTS events_repository ON events (repository);
CREATE INDEX IF NOT EXISTS events_time ON events (occurred_at);
CREATE TABLE IF NOT EXISTS cursors (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the pipeledger ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the pipeledger ledger is append-only'); END;
CREATE TABLE IF NOT EXISTS chain_checkpoints (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    chain_id TEXT,
    seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    key_id TEXT,
    signature TEXT,
    counter INTEGER,
    previous TEXT
);
CREATE TRIGGER IF NOT EXISTS chain_checkpoints_no_update BEFORE UPDATE ON chain_checkpoints
BEGIN SELECT RAISE(ABORT, 'the pipeledger ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS chain_checkpoints_no_delete BEFORE DELETE ON chain_checkpoints
BEGIN SELECT RAISE(ABORT, 'the pipeledger ledger is append-only'); END;
UPDATE meta SET value = '2' WHERE key = 'schema_version' AND value = '1';
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    native_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    quarantined_at TEXT NOT NULL
);
"""
# Version 3: the quarantine table (above) and chain checkpoints of format 2, which carry
# their counter and the hash of the previous checkpoint.
CHECKPOINT_CHAIN_COLUMNS = (("counter", "INTEGER"), ("previous", "TEXT"))
# Version 4: the cursors table, which versions up to 3 named ``checkpoints``.
OLD_CURSOR_TABLE = "checkpoints"
SCHEMA_VERSION = "4"

INDEXED = INDEXED_COLUMNS
FETCH_BATCH = 1000
T = TypeVar("T")
CHECKPOINT_COLUMNS = "chain_id, seq, head_hash, created_at, key_id, signature, counter, previous"
QUARANTINE_COLUMNS = "platform, endpoint, native_id, reason, raw"


class SqliteSink(Ledger):
    def __init__(self, path: Path, *, create: bool = True) -> None:
        self._path = path
        if not create and not path.exists():
            raise LedgerNotFound.at(str(path) if path.is_absolute() else f"./{path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.executescript(SCHEMA)
            self._migrate()
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('chain_id', ?)",
                (uuid.uuid4().hex,),
            )
            self._chain_id = str(
                self._db.execute("SELECT value FROM meta WHERE key = 'chain_id'").fetchone()[0]
            )
        except (sqlite3.Error, OSError) as error:
            raise SinkError(
                f"Cannot open the SQLite ledger at {path}: {error}.",
                "Check that the directory exists and is writable, and that the file is a"
                " pipeledger ledger.",
            ) from error

    def _migrate(self) -> None:
        """Add what version 4 needs to a ledger made by an older pipeledger."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chain_checkpoints)")}
        for name, kind in CHECKPOINT_CHAIN_COLUMNS:
            if name not in columns:
                self._db.execute(f"ALTER TABLE chain_checkpoints ADD COLUMN {name} {kind}")
        if self._has_table(OLD_CURSOR_TABLE):
            self._move_old_cursors()
        self._db.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version' AND value != ?",
            (SCHEMA_VERSION, SCHEMA_VERSION),
        )

    def _has_table(self, name: str) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self._db.execute(query, (name,)).fetchone() is not None

    def _move_old_cursors(self) -> None:
        """Move the cursors of a ledger made before version 4 from ``checkpoints`` into
        ``cursors``, keys and values unchanged, so collection and delivery resume exactly
        where they were; then drop the old table. One transaction: another process opening
        the same file at once finds the rows moved, or waits and finds nothing to move. A
        row already in ``cursors`` gives way: the old table only reappears when an older
        pipeledger wrote to the file after it was migrated, so its rows are the newer."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._has_table(OLD_CURSOR_TABLE):
                self._db.execute(
                    "INSERT OR REPLACE INTO cursors (key, value, updated_at)"
                    " SELECT key, value, updated_at FROM checkpoints"
                )
                self._db.execute("DROP TABLE checkpoints")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @classmethod
    def open(cls, url: str, settings: SinkSettings) -> SqliteSink:
        return cls(path_from_url(url), create=settings.create_ledger)

    @property
    def display_url(self) -> str:
        return f"sqlite:///{self._path}"

    def append(
        self, events: Sequence[AuditEvent], cursors: Mapping[str, str]
    ) -> list[LedgerRecord]:
        try:
            return self._append(events, cursors)
        except sqlite3.Error as error:
            raise SinkError(
                f"Writing to the SQLite ledger {self._path} failed: {error}.",
                "Nothing from this batch was stored; rerun to resume from the stored cursors.",
            ) from error

    def _append(
        self, events: Sequence[AuditEvent], cursors: Mapping[str, str]
    ) -> list[LedgerRecord]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = new_rows(self._not_stored(events), *self._head())
            db.executemany(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)", [row.values() for row in rows]
            )
            self._store_cursors(cursors)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return [row.record for row in rows]

    def _not_stored(self, events: Sequence[AuditEvent]) -> list[AuditEvent]:
        unique = unique_by_id(events)
        known: set[str] = set()
        ids = [event.id for event in unique]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id FROM events WHERE id IN ({marks})"  # noqa: S608 - placeholders only
            known.update(row[0] for row in self._db.execute(query, chunk))
        return [event for event in unique if event.id not in known]

    def _head(self) -> tuple[int, str]:
        row = self._db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)

    def _store_cursors(self, cursors: Mapping[str, str]) -> None:
        now = format_time(datetime.now(UTC))
        self._db.executemany(
            "INSERT INTO cursors (key, value, updated_at) VALUES (?,?,?)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
            [(key, value, now) for key, value in cursors.items()],
        )

    def cursor(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM cursors WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def cursors_with_prefix(self, prefix: str) -> list[tuple[str, str]]:
        # substr, not LIKE: LIKE ignores ASCII case in SQLite and treats % and _ as wildcards.
        rows = self._db.execute(
            "SELECT key, value FROM cursors WHERE substr(key, 1, ?) = ? ORDER BY key",
            (len(prefix), prefix),
        ).fetchall()
        return [(str(key), str(value)) for key, value in rows]

    def set_cursors(self, cursors: Mapping[str, str]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._store_cursors(cursors)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def head_seq(self) -> int:
        return self._head()[0]

    def head(self) -> tuple[int, str]:
        return self._head()

    @property
    def chain_id(self) -> str:
        return self._chain_id

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        """Stored once: a redelivered checkpoint (same fingerprint) is skipped."""
        values = checkpoint.to_dict()
        row = [values.get(name) for name in CHECKPOINT_COLUMNS.split(", ")]
        try:
            self._db.execute(
                f"INSERT OR IGNORE INTO chain_checkpoints (fingerprint, {CHECKPOINT_COLUMNS})"  # noqa: S608 - constant columns
                " VALUES (?,?,?,?,?,?,?,?,?)",
                [canonical_json(values), *row],
            )
        except sqlite3.Error as error:
            raise SinkError(
                f"Writing a chain checkpoint to the SQLite ledger {self._path} failed: {error}.",
                "Check that the file is writable; pipeledger flush writes it again.",
            ) from error

    def stored_checkpoints(self) -> Iterator[ChainCheckpoint]:
        query = f"SELECT {CHECKPOINT_COLUMNS} FROM chain_checkpoints ORDER BY id"  # noqa: S608
        for row in self._db.execute(query).fetchall():
            yield checkpoint_from_row(row, "SQLite")

    def quarantine(self, records: Sequence[QuarantinedRecord]) -> list[QuarantinedRecord]:
        now = format_time(datetime.now(UTC))
        new: list[QuarantinedRecord] = []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for record in records:
                    cursor = self._db.execute(
                        f"INSERT OR IGNORE INTO quarantine (fingerprint, {QUARANTINE_COLUMNS},"  # noqa: S608 - constant columns
                        " quarantined_at) VALUES (?,?,?,?,?,?,?)",
                        (record.fingerprint, *quarantine_values(record), now),
                    )
                    if cursor.rowcount == 1:
                        new.append(record)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            raise SinkError(
                f"Writing to the quarantine of the SQLite ledger {self._path} failed: {error}.",
                "Nothing from this batch was stored; rerun to resume from the stored cursors.",
            ) from error
        return new

    def quarantined(self) -> Iterator[QuarantinedRecord]:
        query = f"SELECT {QUARANTINE_COLUMNS} FROM quarantine ORDER BY id"  # noqa: S608
        for row in self._db.execute(query).fetchall():
            yield QuarantinedRecord(*(str(value) for value in row))

    def check(self) -> None:
        """Open already read the file; writing needs the file and its directory writable
        (SQLite creates its journal beside it)."""
        for path in (self._path, self._path.parent.resolve()):
            if not os.access(path, os.W_OK):
                raise SinkError(
                    f"The SQLite ledger {self._path}: {path} is not writable.",
                    "Give the user running pipeledger write permission on the file and its"
                    " directory.",
                )

    def records(self, selection: EventFilter | None = None) -> Iterator[LedgerRecord]:
        yield from self._select("seq, prev_hash, hash, body", selection, record_from_row)

    def event_bodies(self, selection: EventFilter | None = None) -> Iterator[tuple[str, str]]:
        yield from self._select("kind, body", selection, lambda *row: row)

    def stored_bodies(self, selection: EventFilter | None = None) -> Iterator[StoredBody]:
        yield from self._select("seq, kind, body", selection, StoredBody)

    def _select(
        self, columns: str, selection: EventFilter | None, build: Callable[..., T]
    ) -> Iterator[T]:
        """Rows fetched in batches from one cursor: SQLite steps through the index as it
        goes, so memory stays at one batch however large the ledger."""
        selection = selection or EventFilter()
        where, params = _where(selection)
        if selection.by_time:
            query = (
                f"SELECT occurred_at, seq, {columns} FROM events {where} ORDER BY occurred_at, seq"  # noqa: S608
            )
            batches = _in_time_order(self._batches(query, params))
        else:
            query = f"SELECT {columns} FROM events {where} ORDER BY seq"  # noqa: S608
            batches = self._batches(query, params)
        for batch in batches:
            for row in batch:
                yield build(*row)

    def _batches(self, query: str, params: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
        cursor = self._db.execute(query, params)
        while batch := cursor.fetchmany(FETCH_BATCH):
            yield batch

    def rows(self) -> Iterator[StoredRow]:
        columns = ", ".join(INDEXED)
        query = f"SELECT seq, id, body, prev_hash, hash, {columns} FROM events ORDER BY seq"  # noqa: S608
        for row in self._db.execute(query):
            yield StoredRow(
                seq=row[0],
                event_id=row[1],
                body=row[2],
                prev_hash=row[3],
                hash=row[4],
                indexed=dict(zip(INDEXED, row[5:], strict=True)),
            )

    def close(self) -> None:
        self._db.close()


def path_from_url(url: str) -> Path:
    """``sqlite:///rel.db`` is relative, ``sqlite:////abs.db`` absolute (SQLAlchemy's rule)."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest == "/":
        raise SinkError(
            f"The SQLite sink URL {url!r} has no path.", "Write sqlite:///pipeledger.db."
        )
    return Path(rest[1:])


def _in_time_order(
    batches: Iterator[list[tuple[Any, ...]]],
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of ``(occurred_at, seq, *columns)`` in text order of occurred_at, as batches
    of ``columns`` in time order. The stored text sorts by time except inside one second,
    where ``…:05Z`` sorts after ``…:05.250Z`` and ``…:05.250Z`` after ``…:05.250100Z``: the
    rows of a second whose times differ in length are put in order by their sub-second
    digits, then by seq. The last second of a batch waits for the next one, which may
    continue it."""
    carry: list[tuple[Any, ...]] = []
    for batch in batches:
        rows = carry + batch if carry else batch
        second = rows[-1][0][:19]
        cut = len(rows) - 1
        while cut > 0 and rows[cut - 1][0][:19] == second:
            cut -= 1
        carry = rows[cut:]
        yield _seconds_in_order(rows[:cut])
    yield _seconds_in_order(carry)


def _seconds_in_order(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if len({len(row[0]) for row in rows}) > 1:  # rare: whole and fractional seconds mixed
        rows = sorted(rows, key=lambda row: (row[0][:19], row[0][20:-1].ljust(6, "0"), row[1]))
    return [row[2:] for row in rows]


def _where(selection: EventFilter) -> tuple[str, list[Any]]:
    """Times are stored as the body writes them (UTC text), which sorts as time does."""
    clauses, params = event_conditions(selection, "?", format_time)
    return "WHERE " + " AND ".join(["seq > ?", *clauses]), [selection.after_seq, *params]
