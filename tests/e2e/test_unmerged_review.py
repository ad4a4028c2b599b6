"""Reviews of what was really deployed: an open pull request's head, deployed from its
branch, is recorded with its reviews, and ``audit`` says what is true about it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.github_expect import run_cli
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import (
    ALICE,
    BOB,
    FakeDeployment,
    FakePull,
    FakeReview,
    FakeStatus,
    scenario_org,
)

TOKEN = "ghp_unmerged_review"
POLICY = """\
version: 1
rules:
  - id: prod-review
    type: require-review
    severity: error
    match: {environments: [production]}
"""


def test_an_approved_unmerged_pull_request_deployed_from_its_branch(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    when = datetime.now(UTC) - timedelta(minutes=5)
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        repo = server.org.repos["api"]
        pull = FakePull(
            number=14,
            repo="api",
            author=ALICE,
            merge_commit_sha=None,
            merged_at=None,
            head_ref="feature/x",
            created_at=when - timedelta(hours=2),
        )
        pull.reviews.append(
            FakeReview(881, BOB, "APPROVED", when - timedelta(hours=1), pull.head_sha)
        )
        repo.add_pull(pull)
        run = repo.runs[9002]
        deployment = repo.add_deployment(
            FakeDeployment(
                id=5914,
                repo="api",
                environment="production",
                ref="feature/x",
                sha=pull.head_sha,
                creator=ALICE,
                created_at=when,
                run_id=run.id,
                job_id=4243,
            )
        )
        repo.add_status(deployment, FakeStatus(6914, "success", ALICE, when))
        argv = ["collect", "--platform", "github", "--api-url", server.base_url, "--org", "acme"]
        code, _, err = run_cli(
            [*argv, "--since", "2025-01-01", "--sink", f"sqlite:///{db}"], {"GITHUB_TOKEN": TOKEN}
        )
        assert code == 0, err
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    code, out, err = run_cli(
        ["audit", "--policy", str(policy), "--sink", f"sqlite:///{db}", "--format", "json"], {}
    )
    assert code == 1, err
    messages = [f["message"] for f in json.loads(out)["findings"]]
    mine = [m for m in messages if pull.head_sha[:12] in m]
    assert len(mine) == 1
    assert "PR #14 was approved by bob but deployed unmerged from feature/x" in mine[0]
    assert "no pull request" not in mine[0].lower()
    code, out, err = run_cli(["provenance", "acme/api#5914", "--sink", f"sqlite:///{db}"], {})
    assert code == 0, err
    assert "bob approved #14 by alice" in out
