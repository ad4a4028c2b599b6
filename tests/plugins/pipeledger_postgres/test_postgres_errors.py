"""What a user sees when the PostgreSQL ledger cannot be used: the cause and the fix, never
a password or a psycopg traceback."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pipeledger.errors import SinkError
from pipeledger.sinks.contract import SinkSettings
from pipeledger_postgres.errors import connect_error
from pipeledger_postgres.sink import PostgresSink
from tests.core.ledgers.factory import make_events

SETTINGS = SinkSettings(environ={}, timeout=5)
pytestmark = pytest.mark.postgres


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_names_host_and_port_and_hides_the_password() -> None:
    url = f"postgresql://app:s3cret-pass@127.0.0.1:{_closed_port()}/audit"
    with pytest.raises(SinkError) as caught:
        PostgresSink.open(url, SETTINGS)
    text = caught.value.describe()
    assert "Check the host and port" in text
    assert "app:***@127.0.0.1" in text
    assert "s3cret-pass" not in text


@pytest.mark.parametrize(
    ("server_said", "remedy"),
    [
        ('FATAL:  password authentication failed for user "app"', "PGPASSWORD"),
        ("FATAL:  no pg_hba.conf entry for host", "pg_hba.conf"),
        ('could not translate host name "db.invalid" to address', "Check the host and port"),
        ("timeout expired", "did not answer within 5 s"),
        ("SSL SYSCALL error", "Check the URL"),
    ],
)
def test_connection_failures_are_explained(server_said: str, remedy: str) -> None:
    error = connect_error(
        psycopg.OperationalError(server_said), "postgresql://app:***@db/x", 5, "pw12"
    )
    assert remedy in error.describe()
    assert error.describe().startswith(
        "Cannot connect to the PostgreSQL ledger postgresql://app:***@db/x"
    )


def test_a_password_echoed_by_the_server_is_masked() -> None:
    error = connect_error(psycopg.OperationalError("bad password s3cret-pw"), "u", 5, "s3cret-pw")
    assert "s3cret-pw" not in error.describe()


def test_a_missing_database_says_to_create_it(postgres_server: str) -> None:
    url = postgres_server.rsplit("/", 1)[0] + f"/missing_{secrets.token_hex(4)}"
    with pytest.raises(SinkError) as caught:
        PostgresSink.open(url, SETTINGS)
    assert "Create the database" in caught.value.describe()


def test_a_missing_role_says_to_create_it(postgres_server: str) -> None:
    host_and_db = postgres_server.split("@", 1)[1]
    url = f"postgresql://nobody_{secrets.token_hex(4)}@{host_and_db}"
    with pytest.raises(SinkError) as caught:
        PostgresSink.open(url, SETTINGS)
    assert "Create the role" in caught.value.describe()


@pytest.fixture
def writer_url(
    postgres_server: str, postgres_url: str, postgres_schema: str
) -> Iterator[tuple[str, psycopg.Connection[Any]]]:
    """A login role that does not own the tables; the schema is created by the owner."""
    PostgresSink.open(postgres_url, SETTINGS).close()
    role = f"pl_writer_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'SET search_path TO "{postgres_schema}"')
        host_and_db = postgres_server.split("@", 1)[1]
        yield f"postgresql://{role}@{host_and_db}?schema={postgres_schema}", admin
        admin.execute(f'DROP OWNED BY "{role}"')
        admin.execute(f'DROP ROLE "{role}"')


def _grant_writer(admin: psycopg.Connection[Any], url: str) -> None:
    role = url.split("//", 1)[1].split("@", 1)[0]
    schema = url.rsplit("=", 1)[1]
    admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    admin.execute(
        "GRANT SELECT, INSERT ON pipeledger_events, pipeledger_chain_checkpoints,"
        f' pipeledger_quarantine TO "{role}"'
    )
    admin.execute(f'GRANT SELECT, INSERT, UPDATE ON pipeledger_cursors TO "{role}"')
    admin.execute(f'GRANT SELECT ON pipeledger_meta, pipeledger_schema_version TO "{role}"')


def test_a_writer_with_only_the_documented_grants_can_collect_but_not_rewrite(
    writer_url: tuple[str, psycopg.Connection[Any]],
) -> None:
    url, admin = writer_url
    _grant_writer(admin, url)
    sink = PostgresSink.open(url, SETTINGS)
    sink.check()
    sink.append(make_events(3), {"cursor": "1"})
    sink.set_cursors({"cursor": "2"})
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sink._db.execute("UPDATE pipeledger_events SET actor = 'x'")
    sink.close()


def test_a_writer_without_grants_is_told_which_to_run(
    writer_url: tuple[str, psycopg.Connection[Any]],
) -> None:
    url, _ = writer_url
    with pytest.raises(SinkError) as caught:
        PostgresSink.open(url, SETTINGS)
    assert "GRANT USAGE ON SCHEMA" in caught.value.describe()


def test_check_names_each_missing_grant(
    writer_url: tuple[str, psycopg.Connection[Any]],
) -> None:
    url, admin = writer_url
    _grant_writer(admin, url)
    role = url.split("//", 1)[1].split("@", 1)[0]
    admin.execute(f'REVOKE INSERT ON pipeledger_chain_checkpoints FROM "{role}"')
    admin.execute(f'REVOKE UPDATE ON pipeledger_cursors FROM "{role}"')
    sink = PostgresSink.open(url, SETTINGS)
    with pytest.raises(SinkError) as caught:
        sink.check()
    sink.close()
    text = caught.value.describe()
    assert f"GRANT INSERT ON pipeledger_chain_checkpoints TO {role};" in text
    assert f"GRANT UPDATE ON pipeledger_cursors TO {role};" in text
    assert "pipeledger_events" not in text


def test_check_notices_a_disabled_append_only_trigger(
    postgres_url: str, postgres_admin: psycopg.Connection[Any]
) -> None:
    sink = PostgresSink.open(postgres_url, SETTINGS)
    sink.check()
    postgres_admin.execute(
        "ALTER TABLE pipeledger_events DISABLE TRIGGER pipeledger_events_append_only"
    )
    with pytest.raises(SinkError) as caught:
        sink.check()
    assert "ENABLE TRIGGER pipeledger_events_append_only" in caught.value.describe()
    sink.close()


def test_a_refused_update_is_reported_as_append_only(postgres_url: str) -> None:
    sink = PostgresSink.open(postgres_url, SETTINGS)
    sink.append(make_events(1), {})
    with pytest.raises(SinkError) as caught:
        sink._run("updating", lambda: sink._db.execute("DELETE FROM pipeledger_events"))
    assert "refuses updates and deletes by design" in caught.value.describe()
    sink.close()
