"""Normalizer edge cases: re-runs, bots, unknown enum values, missing fields, correlation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeledger.events import ActorType, EventKind
from pipeledger_github.normalize.fields import MissingField, Oddities
from pipeledger_github.normalize.pipelines import (
    approval_events,
    deployment_events,
    deployment_is_final,
    review_events,
    run_event,
)
from tests.plugins.pipeledger_github import payloads


def test_rerun_by_another_user_names_both() -> None:
    run = payloads.run(7, "2026-05-01T10:00:00Z", actor="dave", triggering="erin", attempt=2)
    run["run_started_at"] = "2026-05-02T08:00:00Z"
    run["status"] = "in_progress"
    event = run_event(run, "github.com")
    assert event.actor.login == "erin"
    assert event.attributes["initial_actor"] == "dave"
    assert event.correlation == {"run_id": "7", "run_attempt": "2"}
    assert event.source.native_id == "7/2/in_progress"
    assert event.occurred_at == datetime(2026, 5, 2, 8, tzinfo=UTC)
    assert event.ref == "refs/heads/main"
    assert event.attributes["head_branch"] == "main"


def test_completed_run_is_dated_by_its_completion() -> None:
    run = payloads.run(7, "2026-05-01T10:00:00Z", updated="2026-05-01T10:30:00Z")
    event = run_event(run, "github.com")
    assert (event.action, event.outcome) == ("completed", "success")
    assert event.occurred_at == datetime(2026, 5, 1, 10, 30, tzinfo=UTC)
    assert event.attributes["occurred_at_source"] == "updated_at"


@pytest.mark.parametrize(
    ("login", "kind"), [("dependabot[bot]", "Bot"), ("renovate[bot]", "User"), ("ci-bot", "Bot")]
)
def test_bots_are_bots(login: str, kind: str) -> None:
    run = payloads.run(7, "2026-05-01T10:00:00Z")
    run["triggering_actor"] = payloads.user(login, 5, kind)
    assert run_event(run, "github.com").actor.type is ActorType.BOT


def test_unknown_status_is_kept_and_reported_once() -> None:
    notes = Oddities()
    first = payloads.run(7, "2026-05-01T10:00:00Z", status="hibernating", conclusion="vanished")
    second = payloads.run(8, "2026-05-01T11:00:00Z", status="hibernating", conclusion=None)
    events = [run_event(run, "github.com", oddities=notes) for run in (first, second)]
    assert [e.action for e in events] == ["hibernating", "hibernating"]
    assert events[0].outcome == "vanished"
    messages = notes.take()
    assert len(messages) == 2
    assert any("'hibernating'" in m for m in messages)
    assert any("'vanished'" in m for m in messages)


def test_run_without_creation_time_cannot_be_recorded() -> None:
    run = payloads.run(7, "2026-05-01T10:00:00Z", status="queued")
    for key in ("created_at", "run_started_at"):
        del run[key]
    with pytest.raises(MissingField, match="created_at"):
        run_event(run, "github.com")


def test_run_without_actors_is_kept_with_an_unknown_actor() -> None:
    notes = Oddities()
    run = payloads.run(7, "2026-05-01T10:00:00Z")
    del run["actor"], run["triggering_actor"]
    event = run_event(run, "github.com", oddities=notes)
    assert event.actor.type is ActorType.UNKNOWN
    assert event.actor.login is None
    assert "names no actor" in notes.take()[0]


def test_run_repository_falls_back_to_the_url_then_the_caller() -> None:
    run = payloads.run(7, "2026-05-01T10:00:00Z", repository="acme/api")
    del run["repository"]
    assert run_event(run, "github.com").scope.repository == "api"
    del run["url"]
    event = run_event(run, "github.com", repository="acme/other")
    assert (event.scope.owner, event.scope.repository) == ("acme", "other")


def test_deployment_creation_and_each_status_are_events_linked_to_the_run() -> None:
    deployment = payloads.deployment(51, "2026-05-01T10:05:00Z", creator="alice")
    statuses = [
        payloads.status(702, "2026-05-01T10:09:00Z", state="success", run_id=9001),
        payloads.status(701, "2026-05-01T10:05:01Z", state="waiting", run_id=9001),
    ]
    events = deployment_events(deployment, statuses, "github.com")
    assert [e.action for e in events] == ["created", "success", "waiting"]
    assert all(e.kind is EventKind.DEPLOYMENT for e in events)
    assert all(e.correlation == {"deployment_id": "51", "run_id": "9001"} for e in events)
    assert all(e.scope.environment == "production" for e in events)
    assert [e.outcome for e in events] == [None, "success", None]
    assert len({e.id for e in events}) == 3
    assert deployment_is_final(statuses)
    assert not deployment_is_final(statuses[1:])


def test_deployment_of_a_commit_sha_has_no_ref() -> None:
    sha = "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d"
    deployment = payloads.deployment(51, "2026-05-01T10:05:00Z", sha=sha, ref=sha)
    event = deployment_events(deployment, [], "github.com")[0]
    assert event.ref is None
    assert event.attributes["ref_name"] == sha


def test_status_without_state_is_skipped_with_a_notice() -> None:
    notes = Oddities()
    deployment = payloads.deployment(51, "2026-05-01T10:05:00Z")
    broken = payloads.status(702, "2026-05-01T10:09:00Z")
    del broken["state"]
    events = deployment_events(deployment, [broken], "github.com", oddities=notes)
    assert [e.action for e in events] == ["created"]
    assert "state" in notes.take()[0]


def test_approval_is_dated_by_the_runs_first_deployment_to_that_environment() -> None:
    run = payloads.run(9001, "2026-05-01T10:00:00Z")
    deployments = [
        payloads.deployment(52, "2026-05-01T10:20:00Z"),
        payloads.deployment(51, "2026-05-01T10:05:00Z"),
        payloads.deployment(50, "2026-05-01T10:01:00Z", environment="staging"),
    ]
    approvals = [payloads.approval("bob", comment="Ship it!")]
    (event,) = approval_events(approvals, run, deployments, "github.com")
    assert event.kind is EventKind.DEPLOYMENT_APPROVAL
    assert (event.action, event.actor.login) == ("approved", "bob")
    assert event.occurred_at == datetime(2026, 5, 1, 10, 5, tzinfo=UTC)
    assert event.attributes["occurred_at_source"] == "deployment.created_at"
    assert event.attributes["comment"] == "Ship it!"
    assert event.correlation == {"run_id": "9001", "run_attempt": "1", "deployment_id": "51"}
    assert event.scope.environment == "production"


def test_approval_without_a_known_deployment_is_dated_by_the_run() -> None:
    run = payloads.run(9001, "2026-05-01T10:00:00Z")
    (event,) = approval_events([payloads.approval("bob", "rejected")], run, [], "github.com")
    assert event.action == "rejected"
    assert event.attributes["occurred_at_source"] == "run.run_started_at"
    assert "deployment_id" not in event.correlation


def test_one_approval_of_two_environments_is_two_events() -> None:
    approval = payloads.approval("bob")
    approval["environments"].append(approval["environments"][0] | {"name": "eu-production"})
    run = payloads.run(9001, "2026-05-01T10:00:00Z")
    events = approval_events([approval], run, [], "github.com")
    assert [e.scope.environment for e in events] == ["production", "eu-production"]
    assert events[0].attributes["environments"] == ["production", "eu-production"]


def test_approval_without_user_or_with_unknown_state() -> None:
    notes = Oddities()
    nobody = payloads.approval("bob")
    del nobody["user"]
    odd = payloads.approval("carol", state="escalated")
    run = payloads.run(9001, "2026-05-01T10:00:00Z")
    events = approval_events([nobody, odd], run, [], "github.com", oddities=notes)
    assert [e.action for e in events] == ["escalated"]
    messages = " ".join(notes.take())
    assert "'user'" in messages
    assert "'escalated'" in messages


def test_reviews_are_correlated_to_each_deployment() -> None:
    pull = payloads.pull(41, author="alice")
    reviews = [payloads.review(1, "carol", "CHANGES_REQUESTED"), payloads.review(2, "carol")]
    staging = {"id": 50, "environment": "staging", "sha": pull["merge_commit_sha"]}
    production = {"id": 51, "environment": "production", "sha": pull["merge_commit_sha"]}
    first = review_events(pull, reviews, staging, "github.com")
    second = review_events(pull, reviews, production, "github.com")
    assert [e.action for e in first] == ["changes_requested", "approved"]
    assert first[1].target is not None
    assert first[1].target["author"] == "alice"
    assert first[1].target["number"] == 41
    assert first[1].correlation == {"pull_request": "41", "deployment_id": "50"}
    # When the change began and its title: DORA's lead time and revert detection use them.
    assert first[1].target["created_at"] == pull["created_at"]
    assert first[1].target["title"] == pull["title"]
    assert second[1].scope.environment == "production"
    assert not {e.id for e in first} & {e.id for e in second}


def test_review_oddities() -> None:
    notes = Oddities()
    pending = payloads.review(3, "bob", "PENDING")
    del pending["submitted_at"]
    strange = payloads.review(4, "bob", "ENDORSED")
    events = review_events(
        payloads.pull(41), [pending, strange], None, "github.com", oddities=notes
    )
    assert [e.action for e in events] == ["endorsed"]
    assert "correlation" not in events[0].to_dict() or "deployment_id" not in events[0].correlation
    messages = " ".join(notes.take())
    assert "submitted_at" in messages
    assert "'ENDORSED'" in messages


def test_records_a_normalizer_skips_are_quarantined_when_collecting() -> None:
    """With collect's quarantine attached (as RepoContext does), a deployment status, an
    approval or a review that cannot be recorded is held with its endpoint, id and reason,
    not only noted."""
    from pipeledger.ledger.quarantine import Holding

    notes = Oddities()
    notes.holding = Holding("github")
    deployment = payloads.deployment(51, "2026-05-01T10:05:00Z")
    status = payloads.status(702, "2026-05-01T10:09:00Z")
    del status["state"]
    deployment_events(deployment, [status], "github.com", oddities=notes)
    pending = payloads.review(3, "bob", "PENDING")
    del pending["submitted_at"]
    review_events(payloads.pull(41), [pending], None, "github.com", oddities=notes)
    held = notes.holding.take()
    assert [(r.endpoint, r.native_id) for r in held] == [
        ("/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", "51/702"),
        ("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "3"),
    ]
    assert all(record.reason and record.raw.startswith("{") for record in held)
    assert notes.take() == []
