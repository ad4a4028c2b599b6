"""``collect --concurrency N`` against the fake APIs: the ledger equals a serial run's — the
same events with the same ids, in the same order, so the same hash chain — and a worker's
platform error is reported while what the others collected is kept."""

from __future__ import annotations

from pathlib import Path

from pipeledger.ledger.chain_check import verify_rows
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from tests.e2e.github_expect import collected, expected, github_collect_argv, run_cli
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import generate_org
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_generate import Size, expected_records, generate_group
from tests.plugins.pipeledger_gitlab.helpers import collect as collect_gitlab
from tests.plugins.pipeledger_gitlab.helpers import ledger_events, records

TOKEN = "ghp_concurrency_token_value"


def _ledger(db: Path) -> tuple[list[tuple[str, str]], str]:
    """Every record as (event id, canonical body) in ledger order, and the chain's head;
    the chain is verified on the way."""
    sinks = SinkSet.open([f"sqlite:///{db}"], SinkSettings(environ={}))
    try:
        rows = list(sinks.ledger.rows())
        assert verify_rows(iter(rows)).ok
        return [(row.event_id, row.body) for row in rows], rows[-1].hash
    finally:
        sinks.close()


def _github(server: FakeGitHubServer, db: Path, concurrency: int) -> tuple[int, str]:
    argv = github_collect_argv(
        server.base_url,
        db,
        "--concurrency",
        str(concurrency),
        "--retries",
        "1",
        "--backoff",
        "0.01",
    )
    code, _, err = run_cli(argv, {"GITHUB_TOKEN": TOKEN})
    return code, err


def test_github_concurrent_ledger_is_the_serial_ledger(tmp_path: Path) -> None:
    org = generate_org(repos=4, runs_per_repo=25, deploy_fraction=0.3, seed=5)
    with FakeGitHubServer(org, token=TOKEN) as server:
        assert _github(server, tmp_path / "serial.db", 1)[0] == 0
        assert _github(server, tmp_path / "concurrent.db", 8)[0] == 0
    serial, serial_head = _ledger(tmp_path / "serial.db")
    concurrent, concurrent_head = _ledger(tmp_path / "concurrent.db")
    assert len(serial) > 60
    assert {ident for ident, _ in concurrent} == {ident for ident, _ in serial}
    assert concurrent == serial
    assert concurrent_head == serial_head
    assert collected(tmp_path / "concurrent.db") == expected(org)


def test_gitlab_concurrent_ledger_is_the_serial_ledger(tmp_path: Path) -> None:
    instance = generate_group(3, Size(subgroups=1, projects_per_group=2, pipelines=8))
    with FakeGitLab(instance) as fake:
        assert collect_gitlab(fake, tmp_path / "serial.db", "--group", "acme").code == 0
        run = collect_gitlab(
            fake, tmp_path / "concurrent.db", "--group", "acme", "--concurrency", "8"
        )
        assert run.code == 0, run.err
    serial, serial_head = _ledger(tmp_path / "serial.db")
    concurrent, concurrent_head = _ledger(tmp_path / "concurrent.db")
    assert len(serial) > 40
    assert {ident for ident, _ in concurrent} == {ident for ident, _ in serial}
    # Snapshot events carry the time they were taken; ids and order are the same.
    assert [ident for ident, _ in concurrent] == [ident for ident, _ in serial]
    assert records(ledger_events(tmp_path / "concurrent.db")) == expected_records(instance)
    assert concurrent_head and serial_head


def test_one_workers_platform_error_is_reported_and_the_others_data_kept(
    tmp_path: Path,
) -> None:
    instance = generate_group(4, Size(subgroups=0, projects_per_group=5, pipelines=10))
    broken = instance.projects[2]
    db = tmp_path / "l.db"
    with FakeGitLab(instance) as fake:
        fake.fail_next(50, 500, f"/projects/{broken.id}/deployments", retry_after=None)
        run = collect_gitlab(
            fake, db, "--group", "acme", "--concurrency", "4", "--retries", "1", "--backoff", "0"
        )
        assert run.code == 3, run.err
        assert "HTTP 500" in run.err and "Traceback" not in run.err
        kept = records(ledger_events(db))
        # The broken project's pipelines came before its deployments and are kept too.
        mine = {p.id for p in broken.pipelines}
        assert any(native.startswith(f"{pid}/") for _, native, _, _ in kept for pid in mine)
        assert kept < expected_records(instance)
        fake.faults.clear()
        rerun = collect_gitlab(fake, db, "--group", "acme", "--concurrency", "4")
        assert rerun.code == 0, rerun.err
    assert records(ledger_events(db)) == expected_records(instance)
    ids = [ident for ident, _ in _ledger(db)[0]]
    assert len(ids) == len(set(ids))
