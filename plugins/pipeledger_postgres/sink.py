"""PostgreSQL ledger: the same hash chain as SQLite in a server many collectors share.

Appends take an advisory lock, so writers queue and the chain never forks; redelivered
events (same id) are skipped; records go in by COPY. Reads page by seq, so nothing holds a
transaction open while a caller works through a large ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pipeledger.plugin import (
    GENESIS_HASH,
    INDEXED_COLUMNS,
    AuditEvent,
    ChainCheckpoint,
    EventFilter,
    Ledger,
    LedgerNotFound,
    LedgerRecord,
    NewRow,
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
    redact_url,
    unique_by_id,
)
from pipeledger_postgres.errors import connect_error, operation_error
from pipeledger_postgres.privileges import missing_grants, trigger_problems
from pipeledger_postgres.schema import (
    APPEND_LOCK,
    LOCK_SQL,
    MIGRATE_LOCK,
    SCHEMA_LOCK_SQL,
    installed_version,
    migrate,
)

PAGE_SIZE = 2000
# Before any event: where a time-ordered read starts.
EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
EVENT_COLUMNS = ("seq", "id", *INDEXED_COLUMNS, "body", "prev_hash", "hash")
COPY_EVENTS = f"COPY pipeledger_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
CHECKPOINT_COLUMNS = (
    "chain_id",
    "seq",
    "head_hash",
    "created_at",
    "key_id",
    "signature",
    "counter",
    "previous",
)
QUARANTINE_COLUMNS = "platform, endpoint, native_id, reason, raw"
UPSERT_CURSOR = (
    "INSERT INTO pipeledger_cursors (key, value, updated_at) VALUES (%s, %s, now())"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()"
)
T = TypeVar("T")
Row = tuple[Any, ...]


class PostgresSink(Ledger):
    def __init__(self, connection: psycopg.Connection[Row], display_url: str) -> None:
        self._db = connection
        self._display_url = display_url
        self._chain_id = ""

    @classmethod
    def open(cls, url: str, settings: SinkSettings) -> PostgresSink:
        target, schema = connection_target(url)
        display = redact_url(url)
        try:
            password = conninfo_to_dict(target).get("password")
            # prepare_threshold=None: no statement is prepared. A prepared statement keeps a
            # generic plan made when it was first run often enough; made on a young ledger,
            # "are these ids stored?" was a sequential scan, kept as the table grew, so every
            # append read the whole table (serve's latency climbed minute by minute).
            connection = psycopg.connect(
                target,
                autocommit=True,
                connect_timeout=max(1, round(settings.timeout)),
                prepare_threshold=None,
            )
        except psycopg.Error as error:
            raise connect_error(error, display, settings.timeout, _text(password)) from error
        sink = cls(connection, display)
        try:
            sink._run("preparing", lambda: sink._prepare(schema, settings.create_ledger))
        except (SinkError, LedgerNotFound):
            connection.close()
            raise
        return sink

    def _prepare(self, schema: str | None, create: bool = True) -> None:
        if schema is not None:
            self._use_schema(schema, create)
        if not create:
            with self._db.cursor() as cursor:
                if installed_version(cursor) == 0:
                    raise LedgerNotFound.at(self._display_url)
        migrate(self._db)
        row = self._db.execute(
            "SELECT value FROM pipeledger_meta WHERE key = 'chain_id'"
        ).fetchone()
        if row is None:
            raise SinkError(
                f"The PostgreSQL ledger {self._display_url} has no chain id.",
                "Its pipeledger_meta table was emptied; restore it from a backup.",
            )
        self._chain_id = str(row[0])

    def _use_schema(self, schema: str, may_create: bool = True) -> None:
        exists = self._db.execute(
            "SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = %s",
            (schema,),
        ).fetchone()
        if exists is None and not may_create:
            raise LedgerNotFound.at(self._display_url)
        if exists is None:
            # Concurrent CREATE SCHEMA IF NOT EXISTS can still collide; the lock queues them.
            create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            with self._db.transaction():
                self._db.execute(SCHEMA_LOCK_SQL, (MIGRATE_LOCK, schema))
                self._db.execute(create)
        elif not exists[0]:
            raise SinkError(
                f"The PostgreSQL ledger {self._display_url}: this role may not use the schema"
                f" {schema}.",
                f"As the schema's owner run: GRANT USAGE ON SCHEMA {schema} TO <role>; then"
                " pipeledger sinks check lists any table grants still missing.",
            )
        self._db.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    @property
    def display_url(self) -> str:
        return self._display_url

    @property
    def chain_id(self) -> str:
        return self._chain_id

    def _run(self, action: str, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except psycopg.Error as error:
            raise operation_error(error, self._display_url, action) from error

    def append(
        self, events: Sequence[AuditEvent], cursors: Mapping[str, str]
    ) -> list[LedgerRecord]:
        if not events and not cursors:
            return []
        return self._run("writing to", lambda: self._append(events, cursors))

    def _append(
        self, events: Sequence[AuditEvent], cursors: Mapping[str, str]
    ) -> list[LedgerRecord]:
        unique = unique_by_id(events)
        with self._db.transaction(), self._db.cursor() as cursor:
            # Under the lock the head cannot move and no other writer adds these ids.
            cursor.execute(LOCK_SQL, (APPEND_LOCK,))
            known = self._stored_ids(cursor, [event.id for event in unique])
            rows = new_rows([e for e in unique if e.id not in known], *self._head(cursor))
            if rows:
                with cursor.copy(COPY_EVENTS) as copy:
                    for row in rows:
                        copy.write_row(_table_values(row))
            cursor.executemany(UPSERT_CURSOR, list(cursors.items()))
        return [row.record for row in rows]

    @staticmethod
    def _stored_ids(cursor: psycopg.Cursor[Row], ids: list[str]) -> set[str]:
        if not ids:
            return set()
        query = "SELECT id FROM pipeledger_events WHERE id = ANY(%s)"
        return {str(row[0]) for row in cursor.execute(query, (ids,))}

    @staticmethod
    def _head(cursor: psycopg.Cursor[Row]) -> tuple[int, str]:
        query = "SELECT seq, hash FROM pipeledger_events ORDER BY seq DESC LIMIT 1"
        row = cursor.execute(query).fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)

    def head(self) -> tuple[int, str]:
        def read() -> tuple[int, str]:
            with self._db.cursor() as cursor:
                return self._head(cursor)

        return self._run("reading", read)

    def head_seq(self) -> int:
        return self.head()[0]

    def cursor(self, key: str) -> str | None:
        query = "SELECT value FROM pipeledger_cursors WHERE key = %s"
        row = self._run("reading", lambda: self._db.execute(query, (key,)).fetchone())
        return str(row[0]) if row else None

    def cursors_with_prefix(self, prefix: str) -> list[tuple[str, str]]:
        # left() rather than LIKE (no wildcards to escape); COLLATE "C" sorts by byte.
        query = (
            "SELECT key, value FROM pipeledger_cursors WHERE left(key, char_length(%s)) = %s"
            ' ORDER BY key COLLATE "C"'
        )
        rows = self._run("reading", lambda: self._db.execute(query, (prefix, prefix)).fetchall())
        return [(str(key), str(value)) for key, value in rows]

    def set_cursors(self, cursors: Mapping[str, str]) -> None:
        def store() -> None:
            with self._db.transaction(), self._db.cursor() as cursor:
                cursor.executemany(UPSERT_CURSOR, list(cursors.items()))

        self._run("writing to", store)

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        """Stored once: a redelivered checkpoint (same fingerprint) is skipped."""
        values = checkpoint.to_dict()
        columns = ", ".join(CHECKPOINT_COLUMNS)
        query = (
            f"INSERT INTO pipeledger_chain_checkpoints (fingerprint, {columns})"  # noqa: S608 - constant columns
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING"
        )
        params = [canonical_json(values), *(values.get(name) for name in CHECKPOINT_COLUMNS)]

        def insert() -> None:
            # Under the append lock ids are handed out in commit order, so readers never see
            # a lower id appear after a higher one (delivery counts checkpoints by position).
            with self._db.transaction(), self._db.cursor() as cursor:
                cursor.execute(LOCK_SQL, (APPEND_LOCK,))
                cursor.execute(query, params)

        self._run("writing a checkpoint to", insert)

    def stored_checkpoints(self) -> Iterator[ChainCheckpoint]:
        columns = ", ".join(CHECKPOINT_COLUMNS)
        query = f"SELECT {columns} FROM pipeledger_chain_checkpoints ORDER BY id"  # noqa: S608
        rows = self._run("reading", lambda: self._db.execute(query).fetchall())
        for row in rows:
            yield checkpoint_from_row(row, "PostgreSQL")

    def quarantine(self, records: Sequence[QuarantinedRecord]) -> list[QuarantinedRecord]:
        query = (
            f"INSERT INTO pipeledger_quarantine (fingerprint, {QUARANTINE_COLUMNS})"  # noqa: S608 - constant columns
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING"
        )

        def insert() -> list[QuarantinedRecord]:
            new: list[QuarantinedRecord] = []
            with self._db.transaction(), self._db.cursor() as cursor:
                for record in records:
                    cursor.execute(query, (record.fingerprint, *quarantine_values(record)))
                    if cursor.rowcount == 1:
                        new.append(record)
            return new

        return self._run("quarantining records in", insert)

    def quarantined(self) -> Iterator[QuarantinedRecord]:
        query = f"SELECT {QUARANTINE_COLUMNS} FROM pipeledger_quarantine ORDER BY id"  # noqa: S608
        rows = self._run("reading", lambda: self._db.execute(query).fetchall())
        for row in rows:
            yield QuarantinedRecord(*(str(value) for value in row))

    def records(self, selection: EventFilter | None = None) -> Iterator[LedgerRecord]:
        for seq, prev_hash, digest, body in self._select("prev_hash, hash, body", selection):
            yield record_from_row(seq, prev_hash, digest, body)

    def event_bodies(self, selection: EventFilter | None = None) -> Iterator[tuple[str, str]]:
        for _seq, kind, body in self._select("kind, body", selection):
            yield str(kind), str(body)

    def stored_bodies(self, selection: EventFilter | None = None) -> Iterator[StoredBody]:
        for seq, kind, body in self._select("kind, body", selection):
            yield StoredBody(int(seq), str(kind), str(body))

    def _select(self, columns: str, selection: EventFilter | None) -> Iterator[Row]:
        """``seq`` and ``columns`` of the events ``selection`` matches, in keyset pages of
        PAGE_SIZE (by seq, or by occurred_at then seq): memory stays at one page however
        large the ledger, and no transaction stays open while the reader works."""
        selection = selection or EventFilter()
        clauses, params = _where(selection)
        if not selection.by_time:
            query = (
                f"SELECT seq, {columns} FROM pipeledger_events"  # noqa: S608 - placeholders only
                f" WHERE seq > %s{clauses} ORDER BY seq LIMIT {PAGE_SIZE}"
            )
            yield from self._pages(query, selection.after_seq, params)
            return
        query = (
            f"SELECT seq, {columns}, occurred_at FROM pipeledger_events"  # noqa: S608
            f" WHERE (occurred_at, seq) > (%s, %s) AND seq > %s{clauses}"
            f" ORDER BY occurred_at, seq LIMIT {PAGE_SIZE}"
        )
        after: tuple[Any, int] = (EARLIEST, 0)
        while True:
            page = self._run(
                "reading", partial(self._fetch, query, [*after, selection.after_seq, *params])
            )
            for row in page:
                yield row[:-1]
            if len(page) < PAGE_SIZE:
                return
            after = (page[-1][-1], int(page[-1][0]))

    def rows(self) -> Iterator[StoredRow]:
        query = (
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM pipeledger_events"  # noqa: S608
            f" WHERE seq > %s ORDER BY seq LIMIT {PAGE_SIZE}"
        )
        for row in self._pages(query, 0, []):
            values = dict(zip(EVENT_COLUMNS, row, strict=True))
            values["occurred_at"] = format_time(values["occurred_at"])
            yield StoredRow(
                seq=values["seq"],
                event_id=values["id"],
                body=values["body"],
                prev_hash=values["prev_hash"],
                hash=values["hash"],
                indexed={name: values[name] for name in INDEXED_COLUMNS},
            )

    def _pages(self, query: str, after_seq: int, params: list[Any]) -> Iterator[Row]:
        """Keyset pages by seq: records never change, so pages never overlap or skip."""
        after = after_seq
        while True:
            page = self._run("reading", partial(self._fetch, query, [after, *params]))
            yield from page
            if len(page) < PAGE_SIZE:
                return
            after = int(page[-1][0])

    def _fetch(self, query: str, params: list[Any]) -> list[Row]:
        return self._db.execute(query, params).fetchall()

    def check(self) -> None:
        def problems() -> list[str]:
            with self._db.cursor() as cursor:
                return [*missing_grants(cursor), *trigger_problems(cursor)]

        found = self._run("checking", problems)
        if found:
            raise SinkError(f"The PostgreSQL ledger {self._display_url}: {' '.join(found)}")

    def close(self) -> None:
        self._db.close()


def connection_target(url: str) -> tuple[str, str | None]:
    """The libpq URL, and the schema named by pipeledger's own ``?schema=`` parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in query if key == "schema"]
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    target = urlunsplit(("postgresql", parts.netloc, parts.path, rest, ""))
    return target, (schemas[-1] if schemas and schemas[-1] else None)


def _table_values(row: NewRow) -> Row:
    """The row for COPY; occurred_at goes in as a timestamp so ranges use the index."""
    values = dict(zip(EVENT_COLUMNS, row.values(), strict=True))
    values["occurred_at"] = row.record.event.occurred_at
    return tuple(values[name] for name in EVENT_COLUMNS)


def _where(selection: EventFilter) -> tuple[str, list[Any]]:
    """occurred_at is a timestamptz column: a moment is passed as it is."""
    clauses, params = event_conditions(selection, "%s", lambda moment: moment)
    return "".join(f" AND {clause}" for clause in clauses), params


def _text(value: object) -> str | None:
    return None if value is None else str(value)
