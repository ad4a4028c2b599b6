"""What ``pipeledger sinks check`` asks the server: can this role do what a collector does,
and does the database itself still refuse updates and deletes?"""

from __future__ import annotations

from typing import Any

import psycopg

from pipeledger_postgres.schema import APPEND_ONLY_TABLES, REQUIRED_PRIVILEGES

Cursor = psycopg.Cursor[tuple[Any, ...]]


def missing_grants(cursor: Cursor) -> list[str]:
    """One sentence per table the current role cannot use fully, with the GRANT to run."""
    row = cursor.execute("SELECT current_user, current_setting('transaction_read_only')").fetchone()
    assert row is not None
    role, read_only = str(row[0]), str(row[1])
    found: list[str] = []
    if read_only == "on":
        found.append("The server only allows reads (a standby?); point the URL at the primary.")
    for table, privileges in REQUIRED_PRIVILEGES.items():
        lacking = [p for p in privileges if not _has(cursor, table, p)]
        if lacking:
            found.append(
                f"The role {role} lacks {', '.join(lacking)} on {table}; as the tables' owner"
                f" run: GRANT {', '.join(lacking)} ON {table} TO {role};"
            )
    return found


def _has(cursor: Cursor, table: str, privilege: str) -> bool:
    row = cursor.execute("SELECT has_table_privilege(%s, %s)", (table, privilege)).fetchone()
    return bool(row and row[0])


def trigger_problems(cursor: Cursor) -> list[str]:
    """The append-only triggers must exist and be enabled on the records and checkpoints."""
    found: list[str] = []
    for table in APPEND_ONLY_TABLES:
        trigger = f"{table}_append_only"
        row = cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s",
            (table, trigger),
        ).fetchone()
        if row is None or str(row[0]) == "D":
            found.append(
                f"The trigger {trigger} that refuses UPDATE and DELETE on {table} is missing or"
                f" disabled, so the table is not append-only; as its owner run: ALTER TABLE"
                f" {table} ENABLE TRIGGER {trigger};"
            )
    return found
