"""Gate evidence for the running Actions job: few calls, the same events collect records."""

from __future__ import annotations

import pytest

from pipeledger.collect.adapter import CollectRequest
from pipeledger.errors import UsageError
from pipeledger.events import EventKind
from pipeledger.sinks.fanout import SinkSet
from pipeledger_github.adapter import GitHubAdapter
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github import payloads
from tests.plugins.pipeledger_github.conftest import AdapterFactory, run_collect, stored_events

SHA = "89e6c98d92887913cadf06b2adb97f26cde4849b"
JOB = {
    "GITHUB_TOKEN": "ghs_job_token",
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_ID": "9002",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_REPOSITORY": "acme/web",
    "GITHUB_SHA": SHA,
    "GITHUB_API_URL": "https://api.github.com",
}


@pytest.fixture
def deploying_job(hub: FakeHub) -> FakeHub:
    repo = hub.repo("acme/web")
    repo.runs.append(
        payloads.run(
            9002,
            "2026-05-05T14:00:00Z",
            sha=SHA,
            actor="dave",
            triggering="erin",
            attempt=2,
            status="in_progress",
            conclusion=None,
        )
    )
    repo.deployments += [
        payloads.deployment(400, "2026-04-01T10:00:00Z", sha=SHA),  # an older run's
        payloads.deployment(503, "2026-05-05T16:40:00Z", sha=SHA, creator="erin"),
    ]
    repo.statuses[400] = [payloads.status(7400, "2026-04-01T10:05:00Z", run_id=8000)]
    repo.statuses[503] = [
        payloads.status(7504, "2026-05-05T16:44:00Z", state="in_progress", run_id=9002)
    ]
    repo.approvals[9002] = [payloads.approval("erin")]
    repo.pulls[SHA] = [payloads.pull(42, author="dave", sha=SHA)]
    repo.reviews[42] = [payloads.review(88002, "bob")]
    hub.teams[("acme", "release-managers")] = {"erin"}
    hub.teams[("platform", "sre")] = {"bob", "erin"}
    return hub


def test_detects_actions() -> None:
    assert GitHubAdapter.detects_ci({"GITHUB_ACTIONS": "true"})
    assert not GitHubAdapter.detects_ci({"GITLAB_CI": "true"})


def test_evidence_of_the_running_job(deploying_job: FakeHub, make_adapter: AdapterFactory) -> None:
    evidence = make_adapter(environ=JOB).gate_evidence("production", [])
    assert len(deploying_job.log) == 6
    assert evidence.run_id == "9002"
    by_kind = {kind: [e for e in evidence.events if e.kind is kind] for kind in EventKind}
    (run,) = by_kind[EventKind.PIPELINE_RUN]
    assert (run.actor.login, run.attributes["initial_actor"]) == ("erin", "dave")
    assert {e.correlation["deployment_id"] for e in by_kind[EventKind.DEPLOYMENT]} == {"503"}
    (approval,) = by_kind[EventKind.DEPLOYMENT_APPROVAL]
    assert (approval.actor.login, approval.correlation["deployment_id"]) == ("erin", "503")
    (review,) = by_kind[EventKind.CHANGE_REVIEW]
    assert review.correlation == {"pull_request": "42", "deployment_id": "503"}
    assert evidence.team_members == {}


def test_team_memberships_of_the_people_in_the_evidence(
    deploying_job: FakeHub, make_adapter: AdapterFactory
) -> None:
    evidence = make_adapter(environ=JOB).gate_evidence(
        "production", ["release-managers", "platform/sre"]
    )
    assert evidence.team_members == {
        "release-managers": frozenset({"erin"}),
        "platform/sre": frozenset({"bob", "erin"}),
    }
    memberships = deploying_job.requests_to("/memberships/")
    assert memberships == []  # each team's member list instead, once
    assert len(deploying_job.requests_to("/members")) == 2


def test_evidence_matches_what_collect_records(
    deploying_job: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    evidence = make_adapter(environ=JOB).gate_evidence("production", [])
    run_collect(make_adapter(), sinks, CollectRequest(repositories=("acme/web",)))
    collected = {e.id: e for e in stored_events(sinks)}
    assert all(collected.get(e.id) == e for e in evidence.events)


def test_outside_actions_is_a_usage_error(make_adapter: AdapterFactory) -> None:
    with pytest.raises(UsageError, match="GITHUB_RUN_ID"):
        make_adapter(environ={"GITHUB_TOKEN": "x"}).gate_evidence("production", [])
