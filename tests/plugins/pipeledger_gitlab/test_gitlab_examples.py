"""Every GitLab webhook, system hook and streamed audit event example of GitLab's documentation
normalizes to schema-valid events, or is knowingly not recorded; a new example file is a new
test case."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeledger.events import EventKind, parse_time
from pipeledger.serve.receiver import Handling, ReceiverSettings
from pipeledger_gitlab.receiver import STREAM, WEBHOOKS, GitLabReceiver
from pipeledger_gitlab.webhook_events import hook_time
from tests.paths import ROOT, fixture

HOOKS = fixture("gitlab-webhooks")
STREAMED = fixture("gitlab-audit-streaming")
SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text(encoding="utf-8"))
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOKEN = "t" * 32
HEADERS = {
    "pipeline-hook": "Pipeline Hook",
    "job-hook": "Job Hook",
    "deployment-hook": "Deployment Hook",
    "merge-request-hook": "Merge Request Hook",
    "member-hook": "Member Hook",
    "system-hook": "System Hook",
}
HOOK_FILES = sorted(HOOKS.glob("*/*.json"))
STREAM_FILES = sorted(STREAMED.glob("*.json"))
# Examples that are no run, deployment, review or access fact.
NOTHING_TO_RECORD = {
    "job-hook/01-created",  # jobs are recorded through their pipeline and deployment
    "merge-request-hook/01-open",  # opening a merge request reviews nothing
    "member-hook/04-user_access_request_to_group",
    "member-hook/05-user_access_request_denied_for_group",
    "system-hook/01-user_access_request_to_project",
    "system-hook/08-user_access_request_to_group",
}
# Streamed events collect does not record either: Git operations, merge request creation, forks.
STREAM_NOT_RECORDED = {
    "01-git-ssh-fetch",
    "02-git-ssh-push",
    "03-git-ssh-deploy-key-fetch",
    "04-git-http-fetch",
    "05-git-http-push",
    "06-git-http-deploy-token-fetch",
    "07-git-ui-download",
    "09-merge-request-create",
    "10-project-fork",
    "14-schema-page-git-ssh-deploy-key",
}


def receiver(instance_url: str = "https://gitlab.example.com/api/v4") -> GitLabReceiver:
    environ = {
        "PIPELEDGER_GITLAB_WEBHOOK_TOKEN": TOKEN,
        "PIPELEDGER_GITLAB_STREAMING_TOKEN": TOKEN,
        "PIPELEDGER_GITLAB_URL": instance_url,
    }
    return GitLabReceiver.create(ReceiverSettings(environ=environ))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def handle_hook(hook: str, payload: Any, uuid: str = "uuid-1") -> Handling:
    gitlab = receiver()
    headers = {"x-gitlab-event": hook, "x-gitlab-event-uuid": uuid}
    return gitlab.handle(gitlab.delivery(WEBHOOKS, headers, payload, AT))


def handle_streamed(payload: Any) -> Handling:
    gitlab = receiver()
    return gitlab.handle(gitlab.delivery(STREAM, {}, payload, AT))


def hook_case(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def assert_valid(handling: Handling) -> None:
    for event in handling.events:
        jsonschema.validate(event.to_dict(), SCHEMA)
        assert event.platform == "gitlab" and event.instance == "gitlab.example.com"


@pytest.mark.parametrize("path", HOOK_FILES, ids=hook_case)
def test_each_hook_example_becomes_schema_valid_events(path: Path) -> None:
    handling = handle_hook(HEADERS[path.parent.name], load(path))
    assert handling.known
    if hook_case(path) in NOTHING_TO_RECORD:
        assert not handling.events
        return
    assert handling.events, f"{hook_case(path)} recorded nothing"
    assert_valid(handling)


@pytest.mark.parametrize("path", STREAM_FILES, ids=lambda path: path.stem)
def test_each_streamed_example_is_recorded_as_collect_records_it(path: Path) -> None:
    handling = handle_streamed(load(path))
    if path.stem in STREAM_NOT_RECORDED:
        assert not handling.known and not handling.events
        return
    assert handling.known and len(handling.events) == 1
    assert_valid(handling)


def test_the_pipeline_hook_is_the_pipeline_collect_records() -> None:
    (event,) = handle_hook(
        "Pipeline Hook", load(HOOKS / "pipeline-hook" / "01-success.json")
    ).events
    assert (event.kind, event.action, event.source.native_id) == (
        EventKind.PIPELINE_RUN,
        "success",
        "31/success",
    )
    assert event.source.endpoint == "/projects/:id/pipelines/:pipeline_id"
    assert (event.scope.owner, event.scope.repository) == ("gitlab-org", "gitlab-test")
    assert event.actor.login == "root"
    assert event.occurred_at == parse_time("2016-08-12T15:26:29Z")
    assert event.ref == "refs/heads/master"


def test_the_deployment_hook_is_the_status_collect_records() -> None:
    payload = load(HOOKS / "deployment-hook" / "01-success.json")
    (event,) = handle_hook("Deployment Hook", payload).events
    assert (event.kind, event.action, event.source.native_id) == (
        EventKind.DEPLOYMENT,
        "success",
        "15/success",
    )
    assert event.scope.environment == "staging"
    assert event.sha == "279484c09fbe69ededfced8c1bb6e6d24616b468"
    assert event.occurred_at == parse_time("2021-04-28T19:50:00Z")
    assert event.correlation["job_id"] == "796"


@pytest.mark.parametrize("action", ["approved", "approval"])
def test_a_merge_request_approval_is_the_review_check_records(action: str) -> None:
    payload = copy.deepcopy(load(HOOKS / "merge-request-hook" / "01-open.json"))
    payload["object_attributes"]["action"] = action
    (event,) = handle_hook("Merge Request Hook", payload).events
    assert (event.kind, event.action, event.actor.login) == (
        EventKind.CHANGE_REVIEW,
        "approved",
        "root",
    )
    assert event.source.native_id == "14!1/1"  # target project 14, merge request !1, user 1
    assert event.target["number"] == 1


def test_a_withdrawn_approval_is_its_own_event_per_delivery() -> None:
    payload = copy.deepcopy(load(HOOKS / "merge-request-hook" / "01-open.json"))
    payload["object_attributes"]["action"] = "unapproved"
    (first,) = handle_hook("Merge Request Hook", payload, "u-1").events
    (second,) = handle_hook("Merge Request Hook", payload, "u-2").events
    assert first.action == "unapproved" and first.occurred_at == AT
    assert first.id != second.id
    assert first.attributes["occurred_at_source"] == "received_at"


@pytest.mark.parametrize(
    ("name", "action", "change"),
    [
        ("01-user_add_to_group", "granted", {"from": None, "to": "guest"}),
        ("02-user_update_for_group", "changed", {"from": None, "to": "developer"}),
        ("03-user_remove_from_group", "revoked", {"from": "guest", "to": None}),
    ],
)
def test_group_member_hooks_are_permission_changes(
    name: str, action: str, change: dict[str, Any]
) -> None:
    (event,) = handle_hook("Member Hook", load(HOOKS / "member-hook" / f"{name}.json")).events
    assert (event.kind, event.action, event.change) == (
        EventKind.PERMISSION_CHANGE,
        action,
        change,
    )
    assert event.scope.owner == "webhook-test" and event.scope.repository is None
    assert event.target == {"type": "user", "login": "test_user", "id": "64"}
    assert event.occurred_at == AT  # the hook gives no time for the change


def test_project_member_system_hooks_are_scoped_to_the_project() -> None:
    payload = load(HOOKS / "system-hook" / "02-user_add_to_team.json")
    (event,) = handle_hook("System Hook", payload).events
    assert (event.scope.owner, event.scope.repository) == ("jsmith", "storecloud")
    assert (event.action, event.change) == ("granted", {"from": None, "to": "maintainer"})


def test_a_redelivered_hook_gives_the_same_ids() -> None:
    payload = load(HOOKS / "member-hook" / "01-user_add_to_group.json")
    first = [e.id for e in handle_hook("Member Hook", payload, "same").events]
    again = [e.id for e in handle_hook("Member Hook", payload, "same").events]
    other = [e.id for e in handle_hook("Member Hook", payload, "other").events]
    assert first == again != other


def test_a_streamed_group_link_change_is_the_audit_event_collect_records() -> None:
    (event,) = handle_streamed(load(STREAMED / "12-project-group-link-update.json")).events
    assert event.kind is EventKind.PERMISSION_CHANGE
    assert event.source.endpoint == "/projects/:id/audit_events"
    assert event.source.native_id == "1"
    assert (event.scope.owner, event.scope.repository) == ("example-group", "example-project")
    assert event.actor.login == "user-id:1" and event.actor.name == "example-user"


def test_unmapped_hooks_are_unknown() -> None:
    assert not handle_hook("Push Hook", {"object_kind": "push"}).known
    assert not handle_hook("System Hook", {"event_name": "user_create"}).known


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("2016-08-12 15:23:28 UTC", "2016-08-12T15:23:28+00:00"),
        ("2021-04-28 21:50:00 +0200", "2021-04-28T21:50:00+02:00"),
        ("2013-12-03T17:23:34Z", "2013-12-03T17:23:34Z"),
        (None, None),
    ],
)
def test_webhook_times_are_read_in_each_way_gitlab_writes_them(
    written: str | None, iso: str | None
) -> None:
    assert hook_time(written) == iso
