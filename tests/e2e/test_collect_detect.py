"""``collect --detect`` against the fake GitHub API: after collecting, the detectors judge
the collected period and record new alerts once; a rerun records none again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeledger.events import EventKind
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.anomalies.synthetic import build
from tests.e2e.github_expect import run_cli
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org

TOKEN = "ghp_e2e_secret_token_value"


@pytest.fixture
def server() -> Iterator[FakeGitHubServer]:
    with FakeGitHubServer(scenario_org(), token=TOKEN) as fake:
        yield fake


def collect_and_detect(server: FakeGitHubServer, db: Path) -> tuple[int, str, str]:
    argv = ["collect", "--platform", "github", "--api-url", server.base_url, "--org", "acme"]
    argv += ["--since", "2025-01-01", "--sink", f"sqlite:///{db}", "--detect"]
    argv += ["--max-wait", "5", "--retries", "2", "--backoff", "0.05"]
    return run_cli(argv, {"GITHUB_TOKEN": TOKEN})


def alert_count(db: Path) -> int:
    ledger = SqliteSink(db)
    try:
        return sum(1 for _ in ledger.records(EventFilter(kinds=(EventKind.ANOMALY,))))
    finally:
        ledger.close()


def test_collect_detect_records_new_alerts_once(server: FakeGitHubServer, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    history = build()
    ledger = SqliteSink(db)
    ledger.append(history.events, {})  # history the detectors learn from and judge
    ledger.close()
    code, out, err = collect_and_detect(server, db)
    assert code == 0, err
    recorded = alert_count(db)
    assert recorded >= len(history.injected)
    assert "anomaly alerts (" in out and f", {recorded} new recorded." in out
    code, out, err = collect_and_detect(server, db)
    assert code == 0, err
    assert ", 0 new recorded." in out and alert_count(db) == recorded
