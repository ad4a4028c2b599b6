"""Store fixtures: a fresh schema on the real PostgreSQL server per test, dropped after.

The server is looked for on 127.0.0.1:5432 (database ``test``, user ``postgres`` or
``root``, trust auth) or at ``PIPELEDGER_TEST_POSTGRES_URL``. Tests skip when none answers,
and fail instead when ``PIPELEDGER_REQUIRE_POSTGRES=1`` (as in CI).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import psycopg

DEFAULT_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)


def _reachable_server() -> tuple[str | None, str]:
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed (pip install 'pipeledger[postgres]')"
    override = os.environ.get("PIPELEDGER_TEST_POSTGRES_URL")
    reasons = []
    for url in (override,) if override else DEFAULT_CANDIDATES:
        try:
            psycopg.connect(url, connect_timeout=3).close()
        except psycopg.Error as error:
            reasons.append(str(error).splitlines()[0])
            continue
        return url, ""
    return None, "; ".join(reasons)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The base URL of a reachable server, without a schema."""
    url, reason = _reachable_server()
    if url is None:
        message = f"no PostgreSQL server reachable: {reason}"
        if os.environ.get("PIPELEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message} (PIPELEDGER_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_schema(postgres_server: str) -> Iterator[str]:
    """A schema name unique to this test; dropped with everything in it afterwards."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    yield schema
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_url(postgres_server: str, postgres_schema: str) -> str:
    """A pipeledger sink URL for a fresh, empty schema (the sink creates it)."""
    return f"{postgres_server}?schema={postgres_schema}"


@pytest.fixture
def postgres_admin(postgres_server: str, postgres_schema: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection whose search_path is the test's schema, to tamper with."""
    import psycopg

    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'SET search_path TO "{postgres_schema}"')
        yield admin
