"""The real command line against the fake GitHub API serving the ``acme`` scenario with its
access state, and readers for what landed in the ledger."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeledger.cli.main import main
from pipeledger.events import AuditEvent
from pipeledger.facts import without_superseded
from pipeledger.snapshots import Snapshot
from tests.fakes.github_access import scenario_access
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org

TOKEN = "test-token"
ACCESS_KINDS = ("permission.change", "protection.change")
# Every request a snapshot makes, and nothing else.
SNAPSHOT_PATHS = (
    r"^/repos/acme/[^/]+$",
    r"/collaborators$",
    r"/environments",
    r"/branches$",
    r"/protection$",
    r"/rules/branches/",
    r"^/orgs/acme/(members|teams)",
)


@dataclass
class Run:
    code: int
    out: str
    err: str

    def notices(self, fragment: str) -> list[str]:
        return [line for line in self.err.splitlines() if fragment in line]


@pytest.fixture
def server() -> Iterator[FakeGitHubServer]:
    with FakeGitHubServer(scenario_org(), token=TOKEN, access=scenario_access()) as fake:
        yield fake


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


def collect(
    server: FakeGitHubServer, ledger: Path, *args: str, environ: dict[str, str] | None = None
) -> Run:
    out, err = io.StringIO(), io.StringIO()
    environ = {"GITHUB_TOKEN": TOKEN, "PIPELEDGER_GITHUB_INSTANCE": "github.com", **(environ or {})}
    argv = ["collect", "--platform", "github", "--api-url", server.base_url, *args]
    code = main([*argv, "--sink", f"sqlite:///{ledger}"], environ=environ, stdout=out, stderr=err)
    return Run(code, out.getvalue(), err.getvalue())


def access_events(ledger: Path) -> list[AuditEvent]:
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT body FROM events ORDER BY seq").fetchall()
    events = [AuditEvent.from_dict(json.loads(body)) for (body,) in rows]
    return [event for event in events if event.kind.value in ACCESS_KINDS]


def standing_access_events(ledger: Path) -> list[AuditEvent]:
    """The access events that stand: superseded ones (one change, two sources) left out."""
    return without_superseded(access_events(ledger))


def cursor(ledger: Path, key: str) -> str | None:
    with sqlite3.connect(ledger) as db:
        row = db.execute("SELECT value FROM cursors WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def snapshot(ledger: Path, scope: str) -> Snapshot:
    text = cursor(ledger, f"snapshot:github:github.com:{scope}")
    assert text is not None, f"no snapshot of {scope}"
    return Snapshot.from_json(text)


def summary(event: AuditEvent) -> tuple[Any, ...]:
    """kind, action, scope, target login or name/setting, from, to: what a reader checks."""
    target = event.target or {}
    change = event.change or {}
    where = "/".join(p for p in (event.scope.repository, event.scope.environment) if p)
    who = target.get("login") or f"{target.get('name')}.{target.get('setting')}"
    return (event.kind.value, event.action, where, who, change.get("from"), change.get("to"))


def snapshot_requests(server: FakeGitHubServer) -> list[tuple[str, int]]:
    import re

    return [
        (record.path, record.status)
        for record in server.requests
        if any(re.search(p, record.path.split("?")[0]) for p in SNAPSHOT_PATHS)
    ]
