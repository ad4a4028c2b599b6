"""The PostgreSQL ledger's tables, created on first use and migrated by numbered steps.

Each step runs once, in a transaction, under an advisory lock, and is recorded in
``pipeledger_schema_version``; a role that cannot create tables can use a schema that an
owner migrated. Triggers refuse UPDATE, DELETE and TRUNCATE on records and chain checkpoints.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg

# Advisory lock classes (first key); the second key is the schema's hash, so ledgers in
# different schemas of one database do not wait for each other.
APPEND_LOCK = 0x504C01
MIGRATE_LOCK = 0x504C02
LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))"
SCHEMA_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(%s))"

# What the writing role needs, table by table; it needs nothing else (no UPDATE or DELETE
# on records, no ownership).
REQUIRED_PRIVILEGES = {
    "pipeledger_events": ("SELECT", "INSERT"),
    "pipeledger_chain_checkpoints": ("SELECT", "INSERT"),
    "pipeledger_cursors": ("SELECT", "INSERT", "UPDATE"),
    "pipeledger_meta": ("SELECT",),
    "pipeledger_schema_version": ("SELECT",),
    "pipeledger_quarantine": ("SELECT", "INSERT"),
}
APPEND_ONLY_TABLES = ("pipeledger_events", "pipeledger_chain_checkpoints", "pipeledger_quarantine")

_V1 = """
CREATE TABLE pipeledger_events (
    seq bigint PRIMARY KEY,
    id text NOT NULL UNIQUE,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor text,
    repository text,
    environment text,
    body text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE INDEX pipeledger_events_kind_time ON pipeledger_events (kind, occurred_at);
CREATE INDEX pipeledger_events_repository ON pipeledger_events (repository);
CREATE INDEX pipeledger_events_actor ON pipeledger_events (actor);
CREATE TABLE pipeledger_cursors (
    key text PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE pipeledger_chain_checkpoints (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint text NOT NULL UNIQUE,
    chain_id text,
    seq bigint NOT NULL,
    head_hash text NOT NULL,
    created_at text NOT NULL,
    key_id text,
    signature text
);
CREATE TABLE pipeledger_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE FUNCTION pipeledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the pipeledger ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$;
"""

_APPEND_ONLY_TRIGGERS = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION pipeledger_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION pipeledger_refuse_change();
"""


def _step_1(cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
    cursor.execute(_V1)
    for table in ("pipeledger_events", "pipeledger_chain_checkpoints"):
        cursor.execute(_APPEND_ONLY_TRIGGERS.format(table=table))
    cursor.execute(
        "INSERT INTO pipeledger_meta (key, value) VALUES ('chain_id', %s)", (uuid.uuid4().hex,)
    )


# Version 2: records that could not become valid events are quarantined, and chain
# checkpoints of format 2 carry their counter and the previous checkpoint's hash.
_V2 = """
CREATE TABLE pipeledger_quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint text NOT NULL UNIQUE,
    platform text NOT NULL,
    endpoint text NOT NULL,
    native_id text NOT NULL,
    reason text NOT NULL,
    raw text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE pipeledger_chain_checkpoints ADD COLUMN counter bigint, ADD COLUMN previous text;
"""


def _step_2(cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
    cursor.execute(_V2)
    cursor.execute(_APPEND_ONLY_TRIGGERS.format(table="pipeledger_quarantine"))


def _step_3(cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
    """Version 3: readers that stream history in time order (``audit``) page through this
    index instead of sorting the whole table."""
    cursor.execute("CREATE INDEX pipeledger_events_time ON pipeledger_events (occurred_at, seq)")


MIGRATIONS: tuple[Callable[[psycopg.Cursor[tuple[Any, ...]]], None], ...] = (
    _step_1,
    _step_2,
    _step_3,
)


def installed_version(cursor: psycopg.Cursor[tuple[Any, ...]]) -> int:
    """0 when the schema holds no pipeledger tables yet."""
    row = cursor.execute("SELECT to_regclass('pipeledger_schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    version = cursor.execute("SELECT max(version) FROM pipeledger_schema_version").fetchone()
    return int(version[0]) if version and version[0] is not None else 0


def migrate(connection: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Bring the schema to the latest version; a no-op (and no DDL) when it is current."""
    with connection.cursor() as cursor:
        if installed_version(cursor) >= len(MIGRATIONS):
            return
        with connection.transaction():
            cursor.execute(LOCK_SQL, (MIGRATE_LOCK,))
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS pipeledger_schema_version ("
                " version integer PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for number in range(installed_version(cursor) + 1, len(MIGRATIONS) + 1):
                MIGRATIONS[number - 1](cursor)
                cursor.execute(
                    "INSERT INTO pipeledger_schema_version (version) VALUES (%s)", (number,)
                )
