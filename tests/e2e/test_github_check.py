"""``pipeledger check`` inside a simulated GitHub Actions deploy job: the real GitHub adapter
against the local fake API, the baseline policy, the six production cases and the API down."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path

import pytest

from pipeledger.events import EventKind, parse_time
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.gate_cases import CASES, GateCase
from tests.e2e.github_expect import run_cli
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import (
    FakeApproval,
    FakeDeployment,
    FakeOrg,
    FakePull,
    FakeRepo,
    FakeReview,
    FakeRun,
    FakeStatus,
    FakeUser,
    fake_sha,
)
from tests.paths import ROOT

TOKEN = "ghs_gate_token_value_1234"
BASELINE = ROOT / "examples" / "policies" / "baseline.yml"
RUN_ID = 30_433_642
USERS = {
    login: FakeUser(login, 1000 + n, "Bot" if login.endswith("[bot]") else "User")
    for n, login in enumerate(("octocat", "hubot", "monalisa", "dependabot[bot]"))
}


def case_org(case: GateCase) -> FakeOrg:
    """The deploy job's world on GitHub: its run, deployment, approvals, PR and reviews."""
    now = parse_time(case.now)
    sha = fake_sha("gate", case.name)
    trigger = USERS[case.trigger]
    org = FakeOrg(login="acme", id=42)
    repo = org.add_repo(FakeRepo(name="web", id=7))
    branch = case.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    repo.add_run(
        FakeRun(
            id=RUN_ID,
            repo="web",
            name="deploy",
            event="push",
            status="in_progress",
            conclusion=None,
            head_branch=branch,
            head_sha=sha,
            run_attempt=1,
            actor=trigger,
            triggering_actor=trigger,
            created_at=now - timedelta(minutes=20),
            updated_at=now - timedelta(minutes=1),
            run_started_at=now - timedelta(minutes=20),
        )
    )
    deployment = repo.add_deployment(
        FakeDeployment(
            id=5001,
            repo="web",
            environment="production",
            ref=branch,
            sha=sha,
            creator=trigger,
            created_at=now - timedelta(minutes=2),
            run_id=RUN_ID,
            job_id=9001,
        )
    )
    repo.add_status(
        deployment, FakeStatus(6001, "in_progress", trigger, now - timedelta(minutes=1))
    )
    for login, state in case.approvals:
        repo.add_approval(FakeApproval(RUN_ID, USERS[login], state, "ok", ["production"]))
    author = USERS[case.pr_author] if case.pr_author in USERS else FakeUser(case.pr_author, 77)
    reviews = [
        FakeReview(
            id=700 + n,
            user=USERS[login],
            state=state,
            submitted_at=now - timedelta(hours=3),
            commit_id=sha,
        )
        for n, (login, state) in enumerate(case.reviews)
    ]
    repo.add_pull(
        FakePull(
            number=12,
            repo="web",
            author=author,
            merge_commit_sha=sha,
            merged_at=now - timedelta(hours=2),
            head_ref="feature/x",
            reviews=reviews,
        )
    )
    return org


def job_environ(api_url: str, case: GateCase, sha: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": api_url,
        "GITHUB_REPOSITORY": "acme/web",
        "GITHUB_RUN_ID": str(RUN_ID),
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_ACTOR": case.trigger,
        "GITHUB_TRIGGERING_ACTOR": case.trigger,
        "GITHUB_REF": case.ref,
        "GITHUB_REF_NAME": case.ref.split("/", 2)[2],
        "GITHUB_REF_TYPE": "tag" if case.ref.startswith("refs/tags/") else "branch",
        "GITHUB_SHA": sha,
        "GITHUB_EVENT_NAME": "push",
        "PIPELEDGER_INSTANCE_NOTE": "e2e",
    }


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


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_gate_gives_the_expected_verdict(case: GateCase, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    org = case_org(case)
    sha = next(iter(org.repos["web"].runs.values())).head_sha
    if case.api_down:
        environ = job_environ(f"http://127.0.0.1:{closed_port()}", case, sha)
        code, out, err = gate(
            environ, db, case, "--timeout", "2", "--retries", "1", "--backoff", "0.01"
        )
        assert code == 3
        assert "Traceback" not in err
        decisions = _decisions(db)
        assert [d.action for d in decisions] == ["error"]
        return
    with FakeGitHubServer(org, token=TOKEN) as server:
        code, out, err = gate(job_environ(server.base_url, case, sha), db, case)
        calls = len(server.requests)
    assert code == case.expected_exit, out + err
    assert TOKEN not in out + err
    report = json.loads(out)
    failing = sorted(
        {finding["rule_id"] for finding in report["findings"] if finding["severity"] == "error"}
    )
    assert failing == sorted(case.failing_rules)
    assert calls <= 7
    decisions = _decisions(db)
    assert [d.action for d in decisions] == ["pass" if case.expected_exit == 0 else "fail"]
    assert decisions[0].actor.login == case.trigger


def test_the_gate_records_its_evidence_once_per_rerun_of_the_step(tmp_path: Path) -> None:
    case = CASES[0]
    db = tmp_path / "l.db"
    org = case_org(case)
    sha = next(iter(org.repos["web"].runs.values())).head_sha
    with FakeGitHubServer(org, token=TOKEN) as server:
        environ = job_environ(server.base_url, case, sha)
        assert gate(environ, db, case)[0] == 0
        first = _count(db)
        assert gate(environ, db, case)[0] == 0
    kinds = {r.event.kind for r in SqliteSink(db).records(EventFilter())}
    assert {
        EventKind.PIPELINE_RUN,
        EventKind.DEPLOYMENT,
        EventKind.DEPLOYMENT_APPROVAL,
        EventKind.CHANGE_REVIEW,
        EventKind.GATE_DECISION,
    } <= kinds
    assert _count(db) <= first + 1  # only a second decision may be new


def test_fail_open_lets_the_job_pass_but_records_the_error(tmp_path: Path) -> None:
    case = CASES[0]
    db = tmp_path / "l.db"
    environ = job_environ(f"http://127.0.0.1:{closed_port()}", case, "a" * 40)
    code, _, err = gate(
        environ, db, case, "--fail-open", "--timeout", "2", "--retries", "1", "--backoff", "0.01"
    )
    assert code == 0
    assert "fail" in err.lower()
    assert [d.action for d in _decisions(db)] == ["error"]


def _decisions(db: Path) -> list:  # type: ignore[type-arg]
    sink = SqliteSink(db)
    try:
        return [r.event for r in sink.records(EventFilter(kinds=(EventKind.GATE_DECISION,)))]
    finally:
        sink.close()


def _count(db: Path) -> int:
    sink = SqliteSink(db)
    try:
        return sink.head_seq()
    finally:
        sink.close()


@pytest.mark.parametrize(
    ("approver", "expected_exit"),
    [("monalisa", 1), ("octocat", 1), ("hubot", 1), ("dependabot[bot]", 0)],
    ids=["pr-author", "started-the-run", "re-ran-it", "someone-else"],
)
def test_a_rerun_by_someone_else_counts_neither_person_as_approver(
    approver: str, expected_exit: int, tmp_path: Path
) -> None:
    """octocat started the run, hubot re-ran it (attempt 2), monalisa wrote the change: none
    of them may approve the deploy; anyone else may (the bot rule is not in play here)."""
    case = CASES[0]
    org = case_org(case)
    repo = org.repos["web"]
    run = repo.runs[RUN_ID]
    with org.lock:
        run.run_attempt = 2
        run.triggering_actor = USERS["hubot"]
        repo.approvals[RUN_ID] = [
            FakeApproval(RUN_ID, USERS[approver], "approved", "ok", ["production"])
        ]
        run.clear_cache()
    policy = tmp_path / "approval-only.yml"
    policy.write_text(
        "version: 1\nrules:\n  - id: prod-approval\n    type: require-approval\n"
        '    match: {environments: ["prod*"]}\n    min_approvals: 1\n'
    )
    db = tmp_path / "l.db"
    with FakeGitHubServer(org, token=TOKEN) as server:
        environ = job_environ(server.base_url, case, run.head_sha)
        environ.update(GITHUB_RUN_ATTEMPT="2", GITHUB_TRIGGERING_ACTOR="hubot")
        code, out, err = run_cli(
            [
                "check",
                "--policy",
                str(policy),
                "--environment",
                "production",
                "--sink",
                f"sqlite:///{db}",
                "--now",
                case.now,
                "--format",
                "json",
            ],
            environ,
        )
    assert code == expected_exit, out + err
    runs = [r.event for r in SqliteSink(db).records(EventFilter(kinds=(EventKind.PIPELINE_RUN,)))]
    assert runs[0].actor.login == "hubot"
    assert runs[0].attributes["initial_actor"] == "octocat"
