"""The protection in force at a deployment, on its evidence page: collected from the fake
GitHub API (access snapshots before and after a deployment), then packed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.github_expect import run_cli
from tests.fakes.github_access import scenario_access
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import FakeDeployment, FakeStatus, scenario_org

TOKEN = "ghp_pack_protection_token"


def test_the_page_shows_the_protection_in_force_at_the_deploy(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    collect = ["collect", "--platform", "github", "--org", "acme", "--since", "2025-01-01",
               "--sink", f"sqlite:///{db}"]  # fmt: skip
    with FakeGitHubServer(scenario_org(), token=TOKEN, access=scenario_access()) as server:
        collect[3:3] = ["--api-url", server.base_url]
        assert run_cli(collect, {"GITHUB_TOKEN": TOKEN})[0] == 0  # the first snapshot
        repo = server.org.repos["api"]
        run = repo.runs[9002]
        when = datetime.now(UTC) + timedelta(seconds=5)
        deployment = repo.add_deployment(
            FakeDeployment(id=5999, repo="api", environment="production", ref="main",
                           sha=run.head_sha, creator=run.triggering_actor, created_at=when,
                           run_id=run.id, job_id=4242)
        )  # fmt: skip
        repo.add_status(deployment, FakeStatus(6999, "success", run.triggering_actor, when))
        assert run_cli(collect, {"GITHUB_TOKEN": TOKEN})[0] == 0
    today = when.date()
    out_dir = tmp_path / "pack"
    code, _, err = run_cli(
        ["report", "--period", f"{today}..{today + timedelta(days=1)}", "--out", str(out_dir),
         "--sample", "1000", "--unsigned", "--sink", f"sqlite:///{db}"],
        {},
    )  # fmt: skip
    assert code == 0, err
    data = json.loads((out_dir / "data.json").read_text())
    evidence = {e["key"]: e for e in data["evidence"]}["acme/api#5999"]
    in_force = evidence["protections_in_force"]
    assert in_force["observed_at"] is not None
    assert [rule["target"] for rule in in_force["rules"]] == ["environment:production"]
    assert in_force["rules"][0]["settings"]["required_reviewers"] == ["user:bob"]
    page = (out_dir / evidence["page"]).read_text()
    assert f"As observed {in_force['observed_at']}" in page
    assert "environment:production" in page
    assert "required_reviewers=user:bob" in page
