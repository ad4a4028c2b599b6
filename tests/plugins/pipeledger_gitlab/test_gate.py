"""The gate's evidence for a production deploy job in GitLab CI, against the fake GitLab:
the same events collect records, fetched with a handful of requests; failures fail closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeledger.collect.adapter import AdapterSettings
from pipeledger.errors import PermissionDenied, PlatformError, UsageError
from pipeledger.events import EventKind
from pipeledger_gitlab.adapter import GitLabAdapter
from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_data import FakeDeployment, FakeProject
from tests.fakes.gitlab_generate import generate_group
from tests.plugins.pipeledger_gitlab.conftest import assert_valid
from tests.plugins.pipeledger_gitlab.helpers import collect, ledger_events

pytestmark = pytest.mark.e2e
JOB_TOKEN = "job-token-1234567890"


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab(generate_group(), job_token=JOB_TOKEN) as server:
        yield server


def _production(fake: FakeGitLab) -> tuple[FakeProject, FakeDeployment]:
    """A production deployment whose job is running now, with approvals and a reviewed MR;
    its pipeline's user runs the deploy job (an automatic job)."""
    for project in fake.instance.projects:
        for deployment in project.deployments:
            reviewed = any(
                m.merge_commit_sha == deployment.sha and m.approvers for m in project.merge_requests
            )
            if deployment.environment == "production" and deployment.approvals and reviewed:
                with fake.lock:
                    deployment.status = deployment.pipeline.status = "running"
                    deployment.user = deployment.pipeline.user
                    fake.job_token_job = (project, deployment)
                return project, deployment
    raise AssertionError("the generated group has no reviewed, approved production deploy")


def _ci_env(fake: FakeGitLab, project: FakeProject, deployment: FakeDeployment) -> dict[str, str]:
    pipeline = deployment.pipeline
    return {
        "GITLAB_CI": "true",
        "GITLAB_TOKEN": DEFAULT_TOKEN,
        "CI_JOB_TOKEN": JOB_TOKEN,
        "CI_API_V4_URL": fake.api_url,
        "CI_PROJECT_ID": str(project.id),
        "CI_PROJECT_PATH": project.full_path,
        "CI_PIPELINE_ID": str(pipeline.id),
        "CI_JOB_ID": str(deployment.job_id),
        "GITLAB_USER_LOGIN": deployment.user.username,
        "GITLAB_USER_ID": str(deployment.user.id),
        "CI_ENVIRONMENT_NAME": "production",
        "CI_COMMIT_SHA": pipeline.sha,
        "CI_COMMIT_REF_NAME": pipeline.ref,
    }


def _adapter(env: dict[str, str]) -> GitLabAdapter:
    return GitLabAdapter.create(AdapterSettings(api_url=None, environ=env, max_retries=1))


def test_production_deploy_evidence_matches_collect(fake: FakeGitLab, tmp_path: Path) -> None:
    project, deployment = _production(fake)
    env = _ci_env(fake, project, deployment)
    assert GitLabAdapter.detects_ci(env)
    evidence = _adapter(env).gate_evidence(None, ["acme"])
    assert (evidence.run_id, evidence.environment) == (str(deployment.pipeline.id), "production")
    by_kind: dict[EventKind, list[str]] = {}
    for event in evidence.events:
        assert_valid(event)
        by_kind.setdefault(event.kind, []).append(event.source.native_id)
    assert by_kind[EventKind.PIPELINE_RUN] == [f"{deployment.pipeline.id}/running"]
    assert by_kind[EventKind.DEPLOYMENT] == [f"{deployment.id}/created", f"{deployment.id}/running"]
    assert len(by_kind[EventKind.DEPLOYMENT_APPROVAL]) == len(deployment.approvals)
    reviews = [e for e in evidence.events if e.kind is EventKind.CHANGE_REVIEW]
    assert reviews and all(e.correlation["deployment_id"] == str(deployment.id) for e in reviews)
    assert evidence.team_members == {"acme": frozenset({"alice", "bob", "carol"})}
    # The very events collect records: same ids for the same things.
    assert collect(fake, tmp_path / "l.db", "--project", project.full_path).code == 0
    collected = {e.id: e for e in ledger_events(tmp_path / "l.db")}
    for event in evidence.events:
        assert collected[event.id] == event


def test_gate_needs_few_requests(fake: FakeGitLab) -> None:
    project, deployment = _production(fake)
    _adapter(_ci_env(fake, project, deployment)).gate_evidence(None, [])
    mrs = [m for m in project.merge_requests if m.merge_commit_sha == deployment.sha]
    # job + pipeline + deployments list + deployment + commit MRs + approvals per MR
    assert fake.requests == 5 + len(mrs)
    assert fake.counts()["job"] == 1


def test_manual_job_started_by_someone_else(fake: FakeGitLab) -> None:
    project, deployment = _production(fake)
    other = next(u for u in fake.instance.users if u != deployment.pipeline.user)
    with fake.lock:
        deployment.user = other  # GitLab: who played the manual job deploys
    env = _ci_env(fake, project, deployment)
    events = _adapter(env).gate_evidence(None, []).events
    run = events[0]
    assert (run.actor.login, run.actor.id) == (other.username, str(other.id))
    assert run.attributes["initial_actor"] == deployment.pipeline.user.username
    deploys = [e for e in events if e.kind is EventKind.DEPLOYMENT]
    assert {e.actor.login for e in deploys} == {other.username}


@pytest.mark.parametrize(
    ("variable", "forged"),
    [
        ("CI_PIPELINE_ID", "1"),
        ("CI_JOB_ID", "2"),
        ("CI_COMMIT_SHA", "0" * 40),
        ("CI_COMMIT_REF_NAME", "release"),
        ("GITLAB_USER_LOGIN", "someone-else"),
    ],
)
def test_overridden_ci_variables_fail_closed(fake: FakeGitLab, variable: str, forged: str) -> None:
    project, deployment = _production(fake)
    env = {**_ci_env(fake, project, deployment), variable: forged}
    with pytest.raises(PlatformError) as caught:
        _adapter(env).gate_evidence(None, [])
    assert variable in caught.value.message
    assert fake.counts()["job"] == 1 and fake.requests == 1  # nothing else was read


def test_without_a_job_token_nothing_is_verified(fake: FakeGitLab) -> None:
    project, deployment = _production(fake)
    env = {k: v for k, v in _ci_env(fake, project, deployment).items() if k != "CI_JOB_TOKEN"}
    assert _adapter(env).gate_evidence(None, []).run_id == str(deployment.pipeline.id)
    assert fake.counts()["job"] == 0


def test_environment_argument_wins_and_no_deployment_still_finds_reviews(fake: FakeGitLab) -> None:
    project, deployment = _production(fake)
    evidence = _adapter(_ci_env(fake, project, deployment)).gate_evidence("qa", [])
    kinds = {e.kind for e in evidence.events}
    assert evidence.environment == "qa"
    assert EventKind.DEPLOYMENT not in kinds and EventKind.CHANGE_REVIEW in kinds
    for review in (e for e in evidence.events if e.kind is EventKind.CHANGE_REVIEW):
        assert "deployment_id" not in review.correlation


def test_job_token_alone_fails_closed_naming_gitlab_token(fake: FakeGitLab) -> None:
    project, deployment = _production(fake)
    env = {k: v for k, v in _ci_env(fake, project, deployment).items() if k != "GITLAB_TOKEN"}
    with pytest.raises(PermissionDenied) as caught:
        _adapter(env).gate_evidence(None, [])
    assert "CI_JOB_TOKEN" in caught.value.message
    assert "GITLAB_TOKEN" in (caught.value.remedy or "")
    assert "read_api" in (caught.value.remedy or "")
    assert fake.counts()["job"] == 1  # the job token verified the job, then could not read on


def test_outside_ci_or_unknown_team_is_a_usage_error(fake: FakeGitLab) -> None:
    project, deployment = _production(fake)
    env = _ci_env(fake, project, deployment)
    with pytest.raises(UsageError, match="CI_PIPELINE_ID"):
        _adapter({k: v for k, v in env.items() if k != "CI_PIPELINE_ID"}).gate_evidence(None, [])
    with pytest.raises(UsageError, match="no-such-team"):
        _adapter(env).gate_evidence(None, ["acme/no-such-team"])
    assert not GitLabAdapter.detects_ci({"GITLAB_CI": "false"})


def test_platform_failure_propagates(fake: FakeGitLab) -> None:
    project, deployment = _production(fake)
    fake.fail_next(5, status=503, path_contains="/deployments", retry_after="0")
    with pytest.raises(Exception, match="503"):
        _adapter(_ci_env(fake, project, deployment)).gate_evidence(None, [])


def test_the_running_job_from_variables_alone_for_an_error_decision(fake: FakeGitLab) -> None:
    """A gate that cannot reach GitLab still records whom it turned away: no request made."""
    project, deployment = _production(fake)
    env = {**_ci_env(fake, project, deployment), "GITLAB_USER_LOGIN": "project_7_bot_4f2a9c0d"}
    job = _adapter(env).ci_job()
    assert job is not None and fake.requests == 0
    assert (job.platform, job.instance) == ("gitlab", f"127.0.0.1:{fake.port}")
    assert (job.owner, job.repository) == (project.group.full_path, project.path)
    assert (job.run_id, job.run_attempt, job.sha) == (
        str(deployment.pipeline.id),
        None,
        env["CI_COMMIT_SHA"],
    )
    assert job.ref == f"refs/heads/{deployment.pipeline.ref}"
    assert (job.actor.login, job.actor.type.value) == ("project_7_bot_4f2a9c0d", "bot")
    tagged = _adapter({**env, "CI_COMMIT_REF_NAME": "v1.2.0", "CI_COMMIT_TAG": "v1.2.0"}).ci_job()
    assert tagged is not None and tagged.ref == "refs/tags/v1.2.0"
    for missing in ("CI_PROJECT_PATH", "CI_PIPELINE_ID"):
        assert _adapter({k: v for k, v in env.items() if k != missing}).ci_job() is None
