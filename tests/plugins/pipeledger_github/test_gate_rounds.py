"""The gate's calls in rounds: two round trips with the commit known, three without, and the
same evidence (events, order, notices, team members, errors) as one call at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from pipeledger.collect.adapter import GateEvidence
from pipeledger.errors import PipeledgerError
from pipeledger_github import gate_evidence, gate_rounds
from pipeledger_github.adapter import GitHubAdapter
from pipeledger_github.gate_rounds import Key, Outcome
from pipeledger_github.normalize.fields import Oddities
from pipeledger_github.repo_context import RepoContext
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github import payloads
from tests.plugins.pipeledger_github.conftest import AdapterFactory, RecordingProgress
from tests.plugins.pipeledger_github.test_gate import JOB, SHA, deploying_job  # noqa: F401 (a fixture)

TEAMS = ("release-managers", "platform/sre")
NO_SHA = {name: value for name, value in JOB.items() if name != "GITHUB_SHA"}


class Rounds:
    """Each round's calls and the requests the fake saw while it ran."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        self.calls: list[list[Key]] = []
        self.requests: list[list[str]] = []

    def __call__(self, calls: Mapping[Key, Callable[[], Any]]) -> dict[Key, Outcome]:
        before = len(self.hub.log)
        outcomes = REAL_IN_PARALLEL(calls)
        self.calls.append(sorted(calls))
        self.requests.append(sorted(entry.path for entry in self.hub.log[before:]))
        return outcomes


REAL_IN_PARALLEL = gate_rounds.in_parallel


@pytest.fixture
def rounds(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rounds]:
    spy = Rounds(hub)
    monkeypatch.setattr(gate_rounds, "in_parallel", spy)
    yield spy


def context_of(adapter: GitHubAdapter, progress: RecordingProgress) -> RepoContext:
    environ = adapter.settings.environ
    return RepoContext(
        adapter.client,
        environ["GITHUB_REPOSITORY"],
        adapter.instance,
        Oddities(),
        progress,
        job_refs=gate_evidence.job_refs(environ),
    )


def one_at_a_time(
    adapter: GitHubAdapter, environment: str | None, teams: tuple[str, ...]
) -> tuple[GateEvidence, list[str]]:
    """The evidence as the gate made it before the rounds: every call in turn."""
    progress = RecordingProgress()
    context = context_of(adapter, progress)
    _, run_id, sha = gate_evidence.job_identity(adapter.settings.environ)
    events = gate_evidence.collect_evidence(context, run_id, sha, environment)
    context.flush_notices()
    members = gate_evidence.team_members(context, teams, events)
    return GateEvidence(run_id, environment, events, members), progress.notices


def in_rounds(
    adapter: GitHubAdapter, environment: str | None, teams: tuple[str, ...]
) -> tuple[GateEvidence, list[str]]:
    progress = RecordingProgress()
    context = context_of(adapter, progress)
    _, run_id, sha = gate_evidence.job_identity(adapter.settings.environ)
    return gate_evidence.evidence(context, run_id, sha, environment, teams), progress.notices


def outcome_of(make: Callable[[], tuple[GateEvidence, list[str]]]) -> Any:
    try:
        made, notices = make()
    except PipeledgerError as error:
        return type(error), error.describe(), error.exit_code
    ids = [event.id for event in made.events]
    return ids, made.events, made.team_members, notices


def test_two_rounds_with_the_commit_known(
    deploying_job: FakeHub,  # noqa: F811
    make_adapter: AdapterFactory,
    rounds: Rounds,
) -> None:
    evidence = make_adapter(environ=JOB).gate_evidence("production", list(TEAMS))
    run = "/repos/acme/web/actions/runs/9002"
    assert rounds.requests == [
        sorted(
            [
                run,
                run + "/approvals",
                "/repos/acme/web/deployments",
                f"/repos/acme/web/commits/{SHA}/pulls",
                "/orgs/acme/teams/release-managers/members",
                "/orgs/platform/teams/sre/members",
            ]
        ),
        # deployment 400 is older than the run: its statuses are not read
        sorted(["/repos/acme/web/deployments/503/statuses", "/repos/acme/web/pulls/42/reviews"]),
    ]
    assert len(deploying_job.log) == 8  # nothing after the rounds, no membership calls
    assert [len(keys) for keys in rounds.calls] == [6, 2]
    assert evidence.team_members == {
        "release-managers": frozenset({"erin"}),
        "platform/sre": frozenset({"bob", "erin"}),
    }


def test_three_rounds_without_the_commit(
    deploying_job: FakeHub,  # noqa: F811
    make_adapter: AdapterFactory,
    rounds: Rounds,
) -> None:
    make_adapter(environ=NO_SHA).gate_evidence("production", [])
    assert rounds.requests[0] == ["/repos/acme/web/actions/runs/9002"]
    assert [len(paths) for paths in rounds.requests] == [1, 3, 2]
    assert len(deploying_job.log) == 6


@pytest.mark.parametrize("environ", [JOB, NO_SHA], ids=["sha", "no-sha"])
@pytest.mark.parametrize("environment", ["production", None])
@pytest.mark.parametrize("teams", [(), TEAMS], ids=["no-teams", "teams"])
def test_same_evidence_as_one_call_at_a_time(
    deploying_job: FakeHub,  # noqa: F811
    make_adapter: AdapterFactory,
    environ: dict[str, str],
    environment: str | None,
    teams: tuple[str, ...],
) -> None:
    repo = deploying_job.repo("acme/web")
    # a second deployment of this run, an open pull request and one whose reviews are gone
    repo.deployments.append(payloads.deployment(504, "2026-05-05T16:50:00Z", sha=SHA))
    repo.statuses[504] = [payloads.status(7505, "2026-05-05T16:51:00Z", run_id=9002)]
    repo.pulls[SHA].append(payloads.pull(43, author="erin", sha=SHA))
    repo.reviews[43] = [payloads.review(88003, "dave")]
    repo.pulls[SHA].append(payloads.pull(44, author="bob", sha=SHA))
    serial = outcome_of(lambda: one_at_a_time(make_adapter(environ=environ), environment, teams))
    assert serial[0]  # events were made
    assert outcome_of(lambda: in_rounds(make_adapter(environ=environ), environment, teams)) == (
        serial
    )


FAILURES = [
    ("/actions/runs/9002", 404),
    ("/actions/runs/9002", 500),
    ("/actions/runs/9002/approvals", 404),
    ("/actions/runs/9002/approvals", 403),
    ("/deployments", 403),
    ("/deployments/503/statuses", 404),
    ("/deployments/503/statuses", 500),
    (f"/commits/{SHA}/pulls", 422),
    (f"/commits/{SHA}/pulls", 403),
    ("/pulls/42/reviews", 404),
    ("/pulls/42/reviews", 401),
    ("/teams/release-managers/members", 403),
    ("/teams/release-managers/members", 404),
    ("/orgs/platform/teams/sre", 500),
]


@pytest.mark.parametrize(("path", "status"), FAILURES)
@pytest.mark.parametrize("environ", [JOB, NO_SHA], ids=["sha", "no-sha"])
def test_a_failing_call_fails_as_one_call_at_a_time(
    deploying_job: FakeHub,  # noqa: F811
    make_adapter: AdapterFactory,
    environ: dict[str, str],
    path: str,
    status: int,
) -> None:
    """Whatever one call of a round meets (a refusal, a server error past the retries, a
    404 the gate notes and passes over) ends the same way, and no thread is left behind."""
    before = set(threading.enumerate())  # other tests' threads may end meanwhile
    # every attempt of the call fails, in both runs (max_retries=2: 3 attempts each)
    deploying_job.fail(path, status, times=100)
    serial = outcome_of(lambda: one_at_a_time(make_adapter(environ=environ), None, TEAMS))
    deploying_job.fail(path, status, times=100)
    rounds = outcome_of(lambda: in_rounds(make_adapter(environ=environ), None, TEAMS))
    assert rounds == serial
    assert set(threading.enumerate()) - before == set()  # none of the round's threads stays


def test_in_parallel_keeps_each_outcome_and_waits_for_all() -> None:
    finished = threading.Event()

    def slow() -> str:
        finished.wait(5)
        return "slow"

    def fails() -> str:
        finished.set()
        raise ValueError("no")

    outcomes = gate_rounds.in_parallel({("slow",): slow, ("fails",): fails})
    assert outcomes[("slow",)].get() == "slow"
    with pytest.raises(ValueError, match="no"):
        outcomes[("fails",)].get()
    assert gate_rounds.in_parallel({}) == {}
