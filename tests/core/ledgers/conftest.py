"""The ledger contract runs over every store, PostgreSQL included: its fixtures (a fresh
schema on the real server per test) come from the PostgreSQL plugin's tests."""

from tests.plugins.pipeledger_postgres.conftest import (
    postgres_admin,
    postgres_schema,
    postgres_server,
    postgres_url,
)

__all__ = ["postgres_admin", "postgres_schema", "postgres_server", "postgres_url"]
