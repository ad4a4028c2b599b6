"""Listing cursors by key prefix (a scope's snapshot history), the same on both ledgers:
exact prefix match (no wildcards, case kept), byte order, and written with the events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeledger.events import Scope
from pipeledger.sinks.contract import Ledger, SinkSettings
from pipeledger.snapshots import Grant, Snapshot, snapshot_at, snapshot_state
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_events

SETTINGS = SinkSettings(environ={}, timeout=5)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        opened: Ledger = SqliteSink(tmp_path / "l.db")
    else:
        from pipeledger_postgres.sink import PostgresSink

        opened = PostgresSink.open(request.getfixturevalue("postgres_url"), SETTINGS)
    yield opened
    opened.close()


def test_only_keys_with_the_exact_prefix_come_back_in_byte_order(ledger: Ledger) -> None:
    ledger.set_cursors(
        {
            "h:acme:b": "2",
            "h:acme:a": "1",
            "h:acme:B": "0",
            "h:ACME:a": "other case",
            "h:acme/web:a": "another scope",
            "h_acme:a": "an underscore is not a wildcard",
            "h%acme:a": "nor is a percent sign",
        }
    )
    assert ledger.cursors_with_prefix("h:acme:") == [
        ("h:acme:B", "0"),
        ("h:acme:a", "1"),
        ("h:acme:b", "2"),
    ]
    assert ledger.cursors_with_prefix("nothing:") == []


def _snapshot(taken_at: datetime, role: str) -> Snapshot:
    grant = Grant("user", "alice", role, Scope(owner="acme", repository="web"))
    return Snapshot.build("github", "github.com", "acme/web", taken_at, [grant])


def test_snapshot_history_finds_the_state_in_force_at_a_moment(ledger: Ledger) -> None:
    states = [(T0, "read"), (T0 + timedelta(hours=1), "read"), (T0 + timedelta(days=1), "admin")]
    previous = None
    for number, (taken_at, role) in enumerate(states):
        current = _snapshot(taken_at, role)
        ledger.append(make_events(1, start=number + 1), snapshot_state(previous, current))
        previous = current
    history = ledger.cursors_with_prefix("snapshot-history:github:github.com:acme/web:")
    assert len(history) == 2  # the baseline and the one change; the unchanged rerun adds none

    def role_at(moment: datetime) -> str | None:
        found = snapshot_at(ledger, "github", "github.com", "acme/web", moment)
        return None if found is None else next(iter(found.grants.values())).role

    assert role_at(T0 - timedelta(seconds=1)) is None
    assert role_at(T0) == "read"
    assert role_at(T0 + timedelta(hours=5)) == "read"
    assert role_at(T0 + timedelta(days=1, microseconds=1)) == "admin"
    latest = ledger.cursor("snapshot:github:github.com:acme/web")
    assert latest is not None and Snapshot.from_json(latest).taken_at == states[-1][0]
