"""Turns psycopg's exceptions into SinkErrors that say what to fix; none escapes the plugin."""

from __future__ import annotations

import psycopg
from psycopg import errors

from pipeledger.plugin import SinkError

GRANTS_HINT = (
    "Grant the writing role what pipeledger needs (run as the tables' owner):"
    " GRANT USAGE ON SCHEMA <schema> TO <role>;"
    " GRANT SELECT, INSERT ON pipeledger_events, pipeledger_chain_checkpoints,"
    " pipeledger_quarantine TO <role>;"
    " GRANT SELECT, INSERT, UPDATE ON pipeledger_cursors TO <role>;"
    " GRANT SELECT ON pipeledger_meta, pipeledger_schema_version TO <role>."
    " If the tables do not exist yet, run pipeledger once as a role that may create them."
    " pipeledger sinks check lists exactly what is missing."
)


def connect_error(
    error: psycopg.Error, url: str, timeout: float, password: str | None
) -> SinkError:
    """A failed connection, with the likely cause named."""
    text = _first_line(error)
    if password and len(password) >= 4:
        text = text.replace(password, "***")
    lowered = text.lower()
    if "refused" in lowered or "could not translate host" in lowered or "no route" in lowered:
        remedy = (
            "Check the host and port in the URL and that the PostgreSQL server is running"
            " and accepts TCP connections there (listen_addresses, firewall)."
        )
    elif "password" in lowered or "authentication" in lowered or "pg_hba" in lowered:
        remedy = (
            "Check the user and password: put the password in PGPASSWORD or ~/.pgpass"
            " rather than the URL, and that pg_hba.conf admits this user from this host."
        )
    elif "database" in lowered and "does not exist" in lowered:
        remedy = "Create the database (createdb NAME) or fix its name in the URL."
    elif "role" in lowered and "does not exist" in lowered:
        remedy = "Create the role (CREATE ROLE name LOGIN) or fix the user in the URL."
    elif "timeout" in lowered or "timed out" in lowered:
        remedy = f"The server did not answer within {timeout:g} s; check the host and firewall."
    else:
        remedy = "Check the URL and that the server is reachable."
    return SinkError(f"Cannot connect to the PostgreSQL ledger {url}: {text}.", remedy)


def operation_error(error: psycopg.Error, url: str, action: str) -> SinkError:
    """A failed statement on an open connection."""
    text = _first_line(error)
    where = f"{action[:1].upper()}{action[1:]} the PostgreSQL ledger {url} failed: {text}."
    if isinstance(error, errors.InsufficientPrivilege):
        return SinkError(where, GRANTS_HINT)
    if isinstance(error, errors.RaiseException) and "append-only" in text:
        return SinkError(
            where, "The ledger refuses updates and deletes by design; records are only added."
        )
    if isinstance(error, errors.InvalidSchemaName):
        return SinkError(
            where,
            "The schema named in search_path does not exist or this role lacks USAGE on it:"
            " create it (CREATE SCHEMA name) or add ?schema=NAME to the URL to have"
            " pipeledger create it, and GRANT USAGE ON SCHEMA name TO the role.",
        )
    if isinstance(error, errors.ReadOnlySqlTransaction):
        return SinkError(where, "The server is a read-only replica; point the URL at the primary.")
    if isinstance(error, psycopg.OperationalError):
        return SinkError(
            where,
            "The connection was lost; nothing from this batch was stored. Rerun to resume"
            " from the stored cursors.",
        )
    return SinkError(where, "Nothing from this batch was stored; rerun pipeledger sinks check.")


def _first_line(error: psycopg.Error) -> str:
    primary = error.diag.message_primary if error.diag else None
    text = primary or str(error) or type(error).__name__
    return " ".join(text.split("\n")[0].split()).rstrip(".")
