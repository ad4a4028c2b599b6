"""Normalizers over GitLab's own documentation examples: every relevant example becomes
schema-valid events, and the fields the policies rely on come out right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeledger.events import ActorType, EventKind, event_id
from pipeledger_gitlab.normalize.pipelines import (
    DEPLOYMENT_ENDPOINT,
    Origin,
    ProjectRef,
    deployment_approval_events,
    deployment_events,
    full_ref,
    has_approval_data,
    pipeline_event,
    review_events,
)
from tests.plugins.pipeledger_gitlab.conftest import assert_valid, gitlab_examples, load_example

ORIGIN = Origin("gitlab.example.com", ProjectRef(4, "diaspora/diaspora-client"))


def _items(name: str) -> list[dict[str, Any]]:
    value = load_example(name)
    return value if isinstance(value, list) else [value]


def _files(pattern: str, *exclude: str) -> list[str]:
    names = sorted(p.name for p in (gitlab_examples() / "docs").glob(pattern))
    return [f"docs/{n}" for n in names if not any(word in n for word in exclude)]


def _deployment_with(fragment: str) -> dict[str, Any]:
    """The docs print approval fields as fragments of the single-deployment object."""
    return {**load_example("docs/deployments-get.json"), **load_example(fragment)}


# ---- pipelines ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", _files("pipelines-*.json"))
def test_every_pipeline_example_normalizes(name: str) -> None:
    for pipeline in _items(name):
        event = pipeline_event(ORIGIN, pipeline)
        assert_valid(event)
        assert event.kind is EventKind.PIPELINE_RUN
        assert event.source.native_id == f"{pipeline['id']}/{pipeline['status']}"
        assert event.correlation == {
            "pipeline_id": str(pipeline["id"]),
            "run_id": str(pipeline["id"]),
        }


def test_pipeline_detail_names_who_ran_it() -> None:
    event = pipeline_event(ORIGIN, load_example("docs/pipelines-get.json"))
    assert (event.actor.login, event.actor.id, event.actor.type) == ("root", "1", ActorType.USER)
    assert event.attributes["initial_actor"] == "root"
    assert event.attributes["source"] == "push"
    assert event.ref == "refs/heads/main"
    assert event.sha == "50f0acb76a40e34a4ff304f7347dcc6587da8a14"
    assert (event.action, event.outcome) == ("success", "success")
    # finished_at (…01:05:50.175Z), to the second as GraphQL and webhooks give it
    assert event.occurred_at.isoformat() == "2022-09-21T01:05:50+00:00"
    assert event.links == {"html": "http://127.0.0.1:3000/test-group/test-project/-/pipelines/287"}
    assert event.id == event_id(
        "gitlab", "gitlab.example.com", "/projects/:id/pipelines/:pipeline_id", "287/success"
    )


def test_pending_pipeline_has_no_outcome_and_a_later_status_is_a_new_event() -> None:
    pending = load_example("docs/pipelines-list.json")[0]
    first = pipeline_event(ORIGIN, pending)
    later = pipeline_event(ORIGIN, {**pending, "status": "success"})
    assert first.outcome is None and later.outcome == "success"
    assert first.id != later.id
    assert first.id == pipeline_event(ORIGIN, pending).id  # collecting twice: same id


def test_tag_pipeline_and_retry_actor() -> None:
    pipeline = {**load_example("docs/pipelines-get.json"), "ref": "v1.2.0", "tag": True}
    retrier = pipeline_event(ORIGIN, pipeline).actor.__class__("janedoe", "28", ActorType.USER)
    event = pipeline_event(ORIGIN, pipeline, attempt_actor=retrier)
    assert event.ref == "refs/tags/v1.2.0"
    assert event.actor.login == "janedoe"
    assert event.attributes["initial_actor"] == "root"


@pytest.mark.parametrize(
    ("ref", "tag", "expected"),
    [
        ("main", False, "refs/heads/main"),
        ("v1", True, "refs/tags/v1"),
        ("refs/merge-requests/1/head", False, "refs/merge-requests/1/head"),
        (None, False, None),
    ],
)
def test_full_ref(ref: str | None, tag: bool, expected: str | None) -> None:
    assert full_ref(ref, tag) == expected


# ---- deployments --------------------------------------------------------------------------


@pytest.mark.parametrize("name", _files("deployments-*.json", "fragment", "approval-post"))
def test_every_deployment_example_normalizes(name: str) -> None:
    for deployment in _items(name):
        events = deployment_events(ORIGIN, deployment)
        for event in events:
            assert_valid(event)
            assert event.kind is EventKind.DEPLOYMENT
            assert event.scope.environment == "production"
        assert events[0].action == "created"
        assert events[0].source.native_id == f"{deployment['id']}/created"


def test_deployment_creation_and_status_with_correlation() -> None:
    created, success = deployment_events(ORIGIN, load_example("docs/deployments-get.json"))
    assert (created.action, success.action, success.outcome) == ("created", "success", "success")
    assert created.occurred_at < success.occurred_at
    assert success.actor.login == "root"
    assert success.ref == "refs/heads/main"
    assert success.sha == "a91957a858320c0e17f3a0eca7cfacbff50ea29a"
    assert success.correlation == {
        "deployment_id": "42",
        "pipeline_id": "42",
        "run_id": "42",
        "job_id": "664",
    }
    assert success.attributes["environment_url"] == "https://about.gitlab.com"


def test_deployment_still_created_is_one_event() -> None:
    listed = load_example("docs/deployments-list.json")[0]
    assert listed["status"] == "created"
    assert [e.action for e in deployment_events(ORIGIN, listed)] == ["created"]


def test_api_created_deployment_without_job() -> None:
    events = deployment_events(ORIGIN, load_example("docs/deployments-create.json"))
    assert events[-1].correlation == {"deployment_id": "42"}


@pytest.mark.parametrize("name", _files("deployments-*fragment*.json"))
def test_every_approval_fragment_normalizes(name: str) -> None:
    deployment = _deployment_with(name)
    assert has_approval_data(deployment)
    for event in deployment_approval_events(ORIGIN, deployment):
        assert_valid(event)
        assert event.kind is EventKind.DEPLOYMENT_APPROVAL
        assert event.source.endpoint == DEPLOYMENT_ENDPOINT


def test_unified_approval_by_a_project_bot() -> None:
    name = "docs/deployments-get.approvals-fragment.unified-approval-setting.json"
    (event,) = deployment_approval_events(ORIGIN, _deployment_with(name))
    assert (event.actor.login, event.actor.type) == ("project_6_bot", ActorType.BOT)
    assert event.action == "approved"
    assert event.attributes == {"comment": "Looks good to me"}
    # created_at 2022-02-24T20:22:30.097Z, to the second as GraphQL gives it
    assert event.occurred_at.isoformat() == "2022-02-24T20:22:30+00:00"
    assert event.scope.environment == "production"
    assert event.correlation == {"deployment_id": "42", "pipeline_id": "42", "run_id": "42"}
    assert event.source.native_id == "42/approval/49/approved"


def test_approval_from_a_rule_keeps_the_rule_and_null_comment() -> None:
    name = "docs/deployments-get.approval_summary-fragment.multiple-approval-rules.json"
    (event,) = deployment_approval_events(ORIGIN, _deployment_with(name))
    assert event.actor.login == "security-user-1"
    assert event.attributes == {"comment": None, "rule": "security-group"}


def test_approval_post_answer_is_an_approval_entry() -> None:
    approval = load_example("docs/deployments-approval-post.json")
    deployment = {**load_example("docs/deployments-get.json"), "approvals": [approval]}
    (event,) = deployment_approval_events(ORIGIN, deployment)
    assert_valid(event)
    assert (event.actor.login, event.action) == ("security-user-1", "approved")


def test_approval_in_both_lists_counts_once() -> None:
    approval = load_example("docs/deployments-approval-post.json")
    rules = {"rules": [{"access_level_description": "qa", "deployment_approvals": [approval]}]}
    deployment = {
        **load_example("docs/deployments-get.json"),
        "approvals": [approval],
        "approval_summary": rules,
    }
    assert len(deployment_approval_events(ORIGIN, deployment)) == 1


def test_free_tier_deployment_has_no_approval_data() -> None:
    assert not has_approval_data(load_example("docs/deployments-get.json"))


# ---- merge request approvals --------------------------------------------------------------

MR_LISTS = ["docs-extra/commits-merge-requests.json", "docs-extra/merge-requests-list-project.json"]


@pytest.mark.parametrize("name", MR_LISTS)
def test_every_merge_request_example_normalizes_with_its_approvals(name: str) -> None:
    approvals = load_example("docs/mr-approvals-get-configuration.json")
    deployment = load_example("docs/deployments-get.json")
    for merge_request in _items(name):
        (event,) = review_events(ORIGIN, merge_request, approvals, deployment)
        assert_valid(event)
        assert event.kind is EventKind.CHANGE_REVIEW
        assert event.action == "approved"
        assert event.actor.login == "root"
        assert event.correlation == {
            "pull_request": str(merge_request["iid"]),
            "deployment_id": "42",
        }


def test_review_target_describes_the_merge_request() -> None:
    merge_request = load_example("docs-extra/merge-requests-list-project.json")[0]
    approvals = load_example("docs/mr-approvals-get-configuration.json")
    (event,) = review_events(ORIGIN, merge_request, approvals, None)
    assert event.target == {
        "type": "merge_request",
        "number": 1,
        "author": "admin",
        "merged_at": "2018-09-07T11:16:17.520Z",
        "merge_commit_sha": None,
        "base": "refs/heads/main",
        "merged": True,
        "state": "merged",
        "head": "refs/heads/test1",
        "created_at": "2017-04-29T08:46:00Z",
    }
    assert event.occurred_at.isoformat() == "2018-09-07T11:16:17.520000+00:00"


@pytest.mark.parametrize(
    ("state", "merged_at", "merged"),
    [
        ("merged", None, True),  # state alone says so
        ("merged", "2018-09-07T11:16:17.520Z", True),
        ("opened", None, False),
        ("closed", None, False),
    ],
)
def test_a_merge_request_is_merged_by_state_or_merged_at(
    state: str, merged_at: str | None, merged: bool
) -> None:
    merge_request = {
        **load_example("docs-extra/merge-requests-list-project.json")[0],
        "state": state,
        "merged_at": merged_at,
    }
    approvals = load_example("docs/mr-approvals-get-configuration.json")
    (event,) = review_events(ORIGIN, merge_request, approvals, None)
    assert (event.target or {})["merged"] is merged
    assert (event.target or {})["state"] == state
    assert event.correlation == {"pull_request": "1"}
    assert event.source.native_id == "3!1/1"


def test_the_same_approval_is_one_event_per_deployment() -> None:
    merge_request = load_example("docs-extra/commits-merge-requests.json")[0]
    approvals = load_example("docs/mr-approvals-get-configuration.json")
    staging = {**load_example("docs/deployments-get.json"), "id": 41}
    production = load_example("docs/deployments-get.json")
    (first,) = review_events(ORIGIN, merge_request, approvals, staging)
    (second,) = review_events(ORIGIN, merge_request, approvals, production)
    assert first.id != second.id


def test_merge_request_without_approvals_is_no_review() -> None:
    merge_request = load_example("docs-extra/commits-merge-requests.json")[0]
    assert review_events(ORIGIN, merge_request, {"approved_by": []}, None) == []


def test_examples_are_where_the_tests_expect_them() -> None:
    assert Path(gitlab_examples(), "docs", "pipelines-get.json").is_file()
