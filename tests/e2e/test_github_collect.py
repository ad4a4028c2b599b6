"""The real CLI against the local fake GitHub API: the ledger must equal the fake's data,
whatever the API throws at it (pagination, ETags, 5xx, rate limits, refusals)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeledger.events import EventKind
from tests.e2e.github_expect import (
    collected,
    event_count,
    expected,
    github_collect_argv,
    run_cli,
)
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import (
    FakeDeployment,
    FakeRun,
    FakeStatus,
    FakeUser,
    fake_sha,
    generate_org,
    scenario_org,
)

TOKEN = "ghp_e2e_secret_token_value"


@pytest.fixture
def server() -> Iterator[FakeGitHubServer]:
    with FakeGitHubServer(scenario_org(), token=TOKEN) as fake:
        yield fake


def collect(server: FakeGitHubServer, db: Path, *extra: str) -> tuple[int, str, str]:
    argv = github_collect_argv(
        server.base_url, db, "--max-wait", "5", "--retries", "2", "--backoff", "0.05", *extra
    )
    return run_cli(argv, {"GITHUB_TOKEN": TOKEN})


def test_collect_stores_exactly_the_fakes_data(server: FakeGitHubServer, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    code, out, err = collect(server, db)
    assert code == 0, err
    assert collected(db) == expected(server.org)
    assert TOKEN not in out + err
    # Tags cost one request per repository (fewer than 100 tags each).
    assert server.count(r"/tags$") == len(server.org.repos)
    code, out, _ = run_cli(["verify", "--sink", f"sqlite:///{db}"], {})
    assert code == 0, out


def test_a_rerun_with_nothing_new_adds_nothing_and_makes_only_conditional_requests(
    server: FakeGitHubServer, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    assert collect(server, db)[0] == 0
    before = event_count(db)
    remaining = server.rate_remaining
    server.reset_log()
    code, out, err = collect(server, db)
    assert code == 0, err
    assert event_count(db) == before
    # Every request carries If-None-Match — the repository list, the runs still in progress,
    # the snapshots (the protected-branch list stands in for the protection of an unprotected
    # branch, whose 404 has no ETag) — and none is answered with anything but a free 304;
    # the audit log, refused on the first run, is not asked again for a day.
    assert [r for r in server.requests if not r.had_if_none_match] == []
    assert {r.status for r in server.requests} == {304}
    assert server.count(status=304) >= len(server.org.repos) * 2 + 1
    assert server.count(r"/tags$") == 0  # nothing new to record, so no tag was needed
    assert server.count(r"/protection$") == server.count(r"/audit-log$") == 0
    assert server.count(r"/branches$") == len(server.org.repos)
    assert server.rate_remaining == remaining
    assert "0 new" in out


def test_new_history_is_collected_incrementally(server: FakeGitHubServer, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    assert collect(server, db)[0] == 0
    repo = server.org.repos["web"]
    when = datetime.now(UTC) - timedelta(hours=1)
    alice, bob = FakeUser("alice", 501), FakeUser("bob", 502)
    sha = fake_sha("new-deploy")
    run = repo.add_run(
        FakeRun(
            id=99_001,
            repo="web",
            name="deploy",
            event="push",
            status="completed",
            conclusion="success",
            head_branch="main",
            head_sha=sha,
            run_attempt=1,
            actor=alice,
            triggering_actor=alice,
            created_at=when,
            updated_at=when + timedelta(minutes=5),
            run_started_at=when,
        )
    )
    deployment = repo.add_deployment(
        FakeDeployment(
            id=88_001,
            repo="web",
            environment="production",
            ref="main",
            sha=sha,
            creator=alice,
            created_at=when + timedelta(minutes=1),
            run_id=run.id,
            job_id=77_001,
        )
    )
    repo.add_status(deployment, FakeStatus(66_001, "success", alice, when + timedelta(minutes=4)))
    from tests.fakes.github_data import FakeApproval

    repo.add_approval(FakeApproval(run.id, bob, "approved", "ship it", ["production"]))
    before = event_count(db)
    server.reset_log()
    code, _, err = collect(server, db)
    assert code == 0, err
    assert collected(db) == expected(server.org)
    assert event_count(db) == before + 4  # run, deployment created + success, approval
    assert server.count(r"/actions/runs/99001/approvals") == 1
    # Only the repository with something new looks at its tags, and they are unchanged.
    assert [
        (r.path, r.status) for r in server.requests if r.path.split("?")[0].endswith("/tags")
    ] == [("/repos/acme/web/tags?per_page=100", 304)]


def test_5xx_and_a_secondary_limit_are_retried_without_loss(
    server: FakeGitHubServer, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    start = server.request_number
    server.faults = {start + 2: 502, start + 5: 503, start + 9: 500}
    server.secondary_limit_on = {start + 7: 1}
    code, _, err = collect(server, db)
    assert code == 0, err
    assert "waiting" in err
    assert collected(db) == expected(server.org)


def test_a_rate_limit_stop_keeps_what_was_collected_and_a_rerun_completes(
    server: FakeGitHubServer, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    server.set_rate_limit(remaining=40, reset=int(time.time()) + 3600)
    code, _, err = collect(server, db)
    assert code == 3
    assert "--max-wait" in err and "rerun" in err
    assert "Traceback" not in err
    kept = event_count(db)
    assert kept > 0
    server.set_rate_limit(remaining=5000, reset=int(time.time()) + 3600)
    code, _, err = collect(server, db)
    assert code == 0, err
    assert collected(db) == expected(server.org)


def test_a_missing_permission_names_it_and_exits_3(
    server: FakeGitHubServer, tmp_path: Path
) -> None:
    server.forbidden_paths = {r"/approvals$": "actions=read"}
    code, _, err = collect(server, tmp_path / "l.db")
    assert code == 3
    assert "actions: read" in err or "actions=read" in err
    assert "Traceback" not in err


def test_one_unreadable_repository_does_not_stop_the_others(
    server: FakeGitHubServer, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    server.forbidden_paths = {r"^/repos/acme/api/": "actions=read"}
    code, _, err = collect(server, db)
    assert code == 3
    assert "1 repository was skipped" in err and "acme/api" in err
    stored = collected(db)
    web_runs = {str(run.id) for run in server.org.repos["web"].runs.values()}
    assert web_runs <= {row[0] for row in stored[EventKind.PIPELINE_RUN]}
    server.forbidden_paths = {}
    assert collect(server, db)[0] == 0
    assert collected(db) == expected(server.org)


def test_a_bad_token_is_a_clear_error(server: FakeGitHubServer, tmp_path: Path) -> None:
    code, _, err = run_cli(
        [
            "collect",
            "--platform",
            "github",
            "--api-url",
            server.base_url,
            "--org",
            "acme",
            "--sink",
            f"sqlite:///{tmp_path / 'l.db'}",
        ],
        {"GITHUB_TOKEN": "ghp_wrong_token_123"},
    )
    assert code == 3
    assert "ghp_wrong_token_123" not in err
    assert "401" in err or "credentials" in err.lower()


def test_no_token_is_a_usage_error(server: FakeGitHubServer, tmp_path: Path) -> None:
    code, _, err = run_cli(
        [
            "collect",
            "--platform",
            "github",
            "--api-url",
            server.base_url,
            "--org",
            "acme",
            "--sink",
            f"sqlite:///{tmp_path / 'l.db'}",
        ],
        {},
    )
    assert code == 2
    assert "GITHUB_TOKEN" in err


def test_malformed_json_is_exit_3_and_keeps_earlier_batches(
    server: FakeGitHubServer, tmp_path: Path
) -> None:
    db = tmp_path / "l.db"
    server.malformed_on = {r"/repos/acme/web/deployments$"}
    code, _, err = collect(server, db)
    assert code == 3
    assert "not valid JSON" in err
    assert "Traceback" not in err
    server.malformed_on = set()
    assert collect(server, db)[0] == 0
    assert collected(db) == expected(server.org)


def test_a_generated_org_with_reruns_and_bots_is_collected_exactly(tmp_path: Path) -> None:
    org = generate_org(repos=3, runs_per_repo=150, deploy_fraction=0.2, seed=7)
    db = tmp_path / "l.db"
    with FakeGitHubServer(org, token=TOKEN) as fake:
        code, out, err = collect(fake, db)
        assert code == 0, err
    assert collected(db) == expected(org)
    assert "requests:" in out
