"""Audit events (GitLab's documentation examples) as permission and protection changes."""

from __future__ import annotations

from typing import Any

import pytest

from pipeledger.events import Actor, ActorType, EventKind, Scope
from pipeledger_gitlab.audit.events import (
    GROUP_AUDIT_ENDPOINT,
    PROJECT_AUDIT_ENDPOINT,
    audit_event,
    author_actor,
    classify,
)
from tests.plugins.pipeledger_gitlab.conftest import assert_valid, gitlab_examples, load_example

ROOT = Actor("root", "1", ActorType.USER)
SCOPE = Scope(owner="twitter", repository="typeahead-js")


def _audit_examples() -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for path in sorted((gitlab_examples() / "docs").glob("audit-events-*.json")):
        value = load_example(f"docs/{path.name}")
        found.extend((path.name, i) for i in range(len(value) if isinstance(value, list) else 1))
    return found


def _example(name: str, index: int) -> dict[str, Any]:
    value = load_example(f"docs/{name}")
    item: dict[str, Any] = value[index] if isinstance(value, list) else value
    return item


@pytest.mark.parametrize(("name", "index"), _audit_examples())
def test_every_audit_example_is_recorded_or_deliberately_skipped(name: str, index: int) -> None:
    item = _example(name, index)
    event = audit_event("gitlab.example.com", SCOPE, PROJECT_AUDIT_ENDPOINT, item, ROOT)
    details = item["details"]
    if "change" in details:  # the approval settings changes of the project examples
        assert event is not None
        assert_valid(event)
        assert event.kind is EventKind.PROTECTION_CHANGE
        assert event.change == {"from": details["from"], "to": details["to"]}
        assert event.source.native_id == str(item["id"])
    else:  # "Group marked for deletion", "Project archived", a group created
        assert event is None


def test_approval_setting_change_in_detail() -> None:
    item = load_example("docs/audit-events-project-get.json")
    event = audit_event("gitlab.example.com", SCOPE, PROJECT_AUDIT_ENDPOINT, item, ROOT)
    assert event is not None
    assert event.action == "changed"
    assert event.target == {
        "type": "Project",
        "id": "7",
        "name": "twitter/typeahead-js",
        "setting": "prevent merge request approval from reviewers",
    }
    assert "ip_address" not in event.attributes
    assert event.attributes["author_name"] == "Administrator"
    assert event.occurred_at.isoformat() == "2020-05-26T22:55:04.230000+00:00"


def _member_change(**details: Any) -> dict[str, Any]:
    """The documentation's group audit event shape carrying a membership change."""
    item = load_example("docs/audit-events-group-get.json")
    base = {k: v for k, v in item["details"].items() if k != "custom_message"}
    return {**item, "details": {**base, **details, "target_type": "User"}}


@pytest.mark.parametrize(
    ("details", "action", "change"),
    [
        # Roles in the names snapshots use, so both sources of a change compare equal.
        ({"add": "user_access", "as": "Owner"}, "granted", {"from": None, "to": "owner"}),
        (
            {"change": "access_level", "from": "Developer", "to": "Maintainer"},
            "changed",
            {"from": "developer", "to": "maintainer"},
        ),
        (
            {
                "change": "access_level",
                "from": "Default role: Reporter",
                "to": "Default role: Owner",
            },
            "changed",
            {"from": "reporter", "to": "owner"},
        ),
        ({"remove": "user_access"}, "revoked", {"from": None, "to": None}),
    ],
)
def test_membership_changes_are_permission_changes(
    details: dict[str, Any], action: str, change: dict[str, Any]
) -> None:
    item = _member_change(**details)
    event = audit_event("gitlab.example.com", Scope("flightjs"), GROUP_AUDIT_ENDPOINT, item, ROOT)
    assert event is not None
    assert_valid(event)
    assert (event.kind, event.action, event.change) == (EventKind.PERMISSION_CHANGE, action, change)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("protected branch access level", EventKind.PROTECTION_CHANGE),
        ("allow force push", EventKind.PROTECTION_CHANGE),
        ("code owner approval required", EventKind.PROTECTION_CHANGE),
        ("user_access", EventKind.PERMISSION_CHANGE),
        ("Project archived", None),
        ("group", None),
    ],
)
def test_classify_by_subject(text: str, kind: EventKind | None) -> None:
    assert classify({"details": {"change": text}}) is kind


def test_event_name_alone_classifies() -> None:
    assert classify({"event_name": "member_updated", "details": {}}) is EventKind.PERMISSION_CHANGE


def test_author_is_the_username_and_the_display_name_is_its_name() -> None:
    item = load_example("docs/audit-events-project-get.json")
    user = {"id": 1, "username": "root"}
    assert author_actor(item, user) == Actor("root", "1", ActorType.USER, name="Administrator")
    named = {"id": 1, "username": "root", "name": "Root Admin"}
    assert author_actor(item, named).name == "Root Admin"
    # A deleted user: never the display name as a login.
    assert author_actor(item, None) == Actor("user-id:1", "1", ActorType.USER, "Administrator")
    runner = {**item, "author_id": -3}
    assert author_actor(runner, None).type is ActorType.SERVICE
    bot = {"id": 49, "username": "group_9_bot_0a1b2c"}
    assert author_actor(item, bot).type is ActorType.BOT
