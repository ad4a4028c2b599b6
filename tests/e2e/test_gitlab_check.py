"""``pipeledger check`` inside a simulated GitLab CI deploy job: the real GitLab adapter against
the local fake GitLab, the baseline policy, and the same cases, verdicts and exit codes as
the GitHub gate (tests/e2e/test_github_check.py) — one policy file governs both platforms."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path

import pytest

from pipeledger.events import AuditEvent, EventKind, parse_time
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.gate_cases import CASES, GateCase
from tests.e2e.github_expect import run_cli
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_data import (
    FakeDeployment,
    FakeGroup,
    FakeInstance,
    FakeMergeRequest,
    FakePipeline,
    FakeProject,
    FakeUser,
    fake_sha,
)
from tests.paths import ROOT

pytestmark = pytest.mark.e2e
TOKEN = "glpat-gate-token-value-1234"
JOB_TOKEN = "glcbt-job-token-value-5678"
BASELINE = ROOT / "examples" / "policies" / "baseline.yml"
PROJECT_ID, PIPELINE_ID, JOB_ID, DEPLOYMENT_ID = 7, 4242, 9001, 5001
# GitHub logins of the cases as GitLab usernames: a GitLab bot is a project access-token user
# (GitLab usernames cannot hold "[bot]"), everyone else keeps their name.
USERNAMES = {"dependabot[bot]": "project_7_bot_3f2a1c9e"}
SERVICE_ACCOUNT = "service_account_group_42_5a1b2c"
USERS = {
    login: FakeUser(1000 + n, USERNAMES.get(login, login), login)
    for n, login in enumerate(("octocat", "hubot", "monalisa", "dependabot[bot]", SERVICE_ACCOUNT))
}
# GitLab-only shapes of the same rules: a tag pipeline names its ref "v1.2.0" (tag: true),
# and GitLab's machine users include service accounts besides access-token bots.
GITLAB_CASES = (
    GateCase("from a release tag", 0, ref="refs/tags/v1.2.0"),
    GateCase("by a service account", 1, ("prod-no-bots",), trigger=SERVICE_ACCOUNT),
)


def username(login: str) -> str:
    return USERNAMES.get(login, login)


def case_instance(case: GateCase) -> FakeInstance:
    """The deploy job's world on GitLab: its pipeline, deployment, approvals, MR, approvers."""
    now = parse_time(case.now)
    sha = fake_sha("gate", case.name)
    trigger = USERS[case.trigger]
    group = FakeGroup(id=42, path="acme", full_path="acme")
    project = FakeProject(id=PROJECT_ID, path="web", group=group)
    pipeline = FakePipeline(
        id=PIPELINE_ID,
        iid=31,
        project_id=PROJECT_ID,
        ref=case.ref.removeprefix("refs/heads/").removeprefix("refs/tags/"),
        sha=sha,
        status="running",
        source="push",
        user=trigger,
        created_at=now - timedelta(minutes=20),
        updated_at=now - timedelta(minutes=1),
        tag=case.ref.startswith("refs/tags/"),
    )
    project.pipelines.append(pipeline)
    project.deployments.append(
        FakeDeployment(
            id=DEPLOYMENT_ID,
            iid=3,
            environment="production",
            environment_id=11,
            # With approval rules GitLab blocks the job; without, it just runs.
            status="blocked" if case.approvals else "running",
            user=trigger,
            job_id=JOB_ID,
            pipeline=pipeline,
            created_at=now - timedelta(minutes=12),
            updated_at=now - timedelta(minutes=11),
            required_approvals=1 if case.approvals else 0,
        )
    )
    project.merge_requests.append(
        FakeMergeRequest(
            id=812,
            iid=12,
            project_id=PROJECT_ID,
            author=USERS.get(case.pr_author) or FakeUser(77, case.pr_author, case.pr_author),
            source_branch="feature/x",
            merge_commit_sha=sha,
            merged_at=now - timedelta(hours=2),
            approvers=_approvers(case),
        )
    )
    return FakeInstance(root=group, groups=[group], projects=[project], users=list(USERS.values()))


def _approvers(case: GateCase) -> list[FakeUser]:
    """GitLab has MR approvals only; a case with another review state has no GitLab twin."""
    assert all(state == "APPROVED" for _, state in case.reviews), case.reviews
    return [USERS[login] for login, _ in case.reviews]


def serve(case: GateCase, free_tier: bool = False, approve: bool = True) -> FakeGitLab:
    """The fake GitLab with the case's deploy job: blocked until the case's approvers
    approve it, then running (``approve=False`` leaves it blocked, unapproved)."""
    instance = case_instance(case)
    project = instance.projects[0]
    fake = FakeGitLab(instance, token=TOKEN, job_token=JOB_TOKEN, free_tier=free_tier)
    fake.job_token_job = (project, project.deployments[0])
    if approve:
        approve_and_run(fake, case)
    return fake


def approve_and_run(fake: FakeGitLab, case: GateCase) -> None:
    deployment = fake.instance.projects[0].deployments[0]
    now = parse_time(case.now)
    for n, (login, state) in enumerate(case.approvals):
        at = now - timedelta(minutes=10 - n)
        fake.approve_deployment(deployment, USERS[login], at, state, "ok")
    fake.run_deploy_job(deployment, now - timedelta(minutes=1))


def job_environ(api_url: str, case: GateCase) -> dict[str, str]:
    """The predefined variables GitLab CI gives a deploy job, and the gate's token."""
    environ = {
        "GITLAB_CI": "true",
        "GITLAB_TOKEN": TOKEN,
        "CI_JOB_TOKEN": JOB_TOKEN,
        "CI_API_V4_URL": api_url,
        "CI_PROJECT_ID": str(PROJECT_ID),
        "CI_PROJECT_PATH": "acme/web",
        "CI_PIPELINE_ID": str(PIPELINE_ID),
        "CI_JOB_ID": str(JOB_ID),
        "GITLAB_USER_LOGIN": username(case.trigger),
        "GITLAB_USER_ID": str(USERS[case.trigger].id),
        "CI_ENVIRONMENT_NAME": "production",
        "CI_COMMIT_SHA": fake_sha("gate", case.name),
        "CI_COMMIT_REF_NAME": case.ref.removeprefix("refs/heads/").removeprefix("refs/tags/"),
        "PIPELEDGER_INSTANCE_NOTE": "e2e",
    }
    if case.ref.startswith("refs/tags/"):
        environ["CI_COMMIT_TAG"] = environ["CI_COMMIT_REF_NAME"]
    return environ


def gate(environ: dict[str, str], db: Path, case: GateCase, *extra: str) -> tuple[int, str, str]:
    argv = [
        "check",
        "--policy",
        str(BASELINE),
        "--environment",
        "production",
        "--sink",
        f"sqlite:///{db}",
        "--now",
        case.now,
        "--format",
        "json",
        *extra,
    ]
    return run_cli(argv, environ)


def api_down(case: GateCase) -> dict[str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return job_environ(f"http://127.0.0.1:{port}/api/v4", case)


QUICK_FAILURE = ("--timeout", "2", "--retries", "1", "--backoff", "0.01")


@pytest.mark.parametrize("case", CASES + GITLAB_CASES, ids=[c.name for c in CASES + GITLAB_CASES])
def test_the_gate_gives_the_same_verdict_as_on_github(case: GateCase, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    if case.api_down:
        code, out, err = gate(api_down(case), db, case, *QUICK_FAILURE)
        assert code == case.expected_exit == 3
        assert "Traceback" not in err
        assert TOKEN not in out + err and JOB_TOKEN not in out + err
        decisions = _decisions(db)
        assert [d.action for d in decisions] == ["error"]
        assert decisions[0].actor.login == username(case.trigger)
        assert (decisions[0].scope.owner, decisions[0].scope.repository) == ("acme", "web")
        return
    with serve(case) as fake:
        code, out, err = gate(job_environ(fake.api_url, case), db, case)
        calls = fake.counts()
    assert code == case.expected_exit, out + err
    assert TOKEN not in out + err and JOB_TOKEN not in out + err
    report = json.loads(out)
    failing = sorted(
        {finding["rule_id"] for finding in report["findings"] if finding["severity"] == "error"}
    )
    assert failing == sorted(case.failing_rules)
    # job + pipeline + deployments + deployment + the commit's MRs + their approvals
    assert sum(calls.values()) == 6 and calls["job"] == 1
    decisions = _decisions(db)
    assert [d.action for d in decisions] == ["pass" if case.expected_exit == 0 else "fail"]
    assert decisions[0].actor.login == username(case.trigger)
    assert decisions[0].platform == "gitlab"


def test_the_gate_records_its_evidence_once_per_rerun_of_the_step(tmp_path: Path) -> None:
    case = CASES[0]
    db = tmp_path / "l.db"
    with serve(case) as fake:
        environ = job_environ(fake.api_url, case)
        assert gate(environ, db, case)[0] == 0
        first = _count(db)
        assert gate(environ, db, case)[0] == 0
    events = _events(db)
    kinds = {e.kind for e in events}
    assert {
        EventKind.PIPELINE_RUN,
        EventKind.DEPLOYMENT,
        EventKind.DEPLOYMENT_APPROVAL,
        EventKind.CHANGE_REVIEW,
        EventKind.GATE_DECISION,
    } <= kinds
    assert _count(db) <= first + 1  # only a second decision may be new
    review = next(e for e in events if e.kind is EventKind.CHANGE_REVIEW)
    assert (review.actor.login, (review.target or {})["author"]) == ("hubot", "monalisa")


def test_a_bot_is_recognised_by_its_gitlab_username(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.trigger_type == "Bot")
    with serve(case) as fake:
        gate(job_environ(fake.api_url, case), tmp_path / "l.db", case)
    run = next(e for e in _events(tmp_path / "l.db") if e.kind is EventKind.PIPELINE_RUN)
    assert (run.actor.login, run.actor.type.value) == (USERNAMES["dependabot[bot]"], "bot")


def test_on_gitlab_free_a_deploy_has_no_approvals_to_count(tmp_path: Path) -> None:
    """A platform difference, not a normalization one: Free has no deployment approvals, so
    a policy that requires one fails every production deploy there."""
    case = CASES[0]
    with serve(case, free_tier=True) as fake:
        code, out, err = gate(job_environ(fake.api_url, case), tmp_path / "l.db", case)
    assert code == 1, out + err
    report = json.loads(out)
    assert {f["rule_id"] for f in report["findings"] if f["severity"] == "error"} == {
        "prod-approval"
    }
    assert not _events(tmp_path / "l.db", EventKind.DEPLOYMENT_APPROVAL)


def test_fail_open_lets_the_job_pass_but_records_the_error(tmp_path: Path) -> None:
    case = CASES[0]
    db = tmp_path / "l.db"
    code, out, err = gate(api_down(case), db, case, "--fail-open", *QUICK_FAILURE)
    assert code == 0
    assert "fail" in err.lower()
    assert TOKEN not in out + err and JOB_TOKEN not in out + err
    assert [d.action for d in _decisions(db)] == ["error"]


def test_an_overridden_ci_variable_is_a_platform_failure_not_a_verdict(tmp_path: Path) -> None:
    """A job that claims to build main but runs a feature branch cannot pass prod-refs."""
    case = next(c for c in CASES if "feature" in c.ref)
    db = tmp_path / "l.db"
    with serve(case) as fake:
        environ = {**job_environ(fake.api_url, case), "CI_COMMIT_REF_NAME": "main"}
        code, out, err = gate(environ, db, case)
    assert code == 3, out + err
    assert "CI_COMMIT_REF_NAME" in err
    assert [d.action for d in _decisions(db)] == ["error"]


def _events(db: Path, *kinds: EventKind) -> list[AuditEvent]:
    sink = SqliteSink(db)
    try:
        return [r.event for r in sink.records(EventFilter(kinds=kinds))]
    finally:
        sink.close()


def _decisions(db: Path) -> list[AuditEvent]:
    return _events(db, EventKind.GATE_DECISION)


def _count(db: Path) -> int:
    sink = SqliteSink(db)
    try:
        return sink.head_seq()
    finally:
        sink.close()
