"""GitLab audit events about members and protections, in the shapes of GitLab's documented
examples (``tests/fixtures/gitlab/docs/audit-events-*.json``) with the details GitLab's
auditors write, mapped to permission.change / protection.change in snapshot terms."""

from __future__ import annotations

from typing import Any

import pytest

from pipeledger.events import Actor, ActorType, EventKind, Scope
from pipeledger_gitlab.audit.events import PROJECT_AUDIT_ENDPOINT, audit_event, target_user_id
from tests.plugins.pipeledger_gitlab.conftest import assert_valid, gitlab_examples, load_example

ROOT = Actor("root", "1", ActorType.USER)
SCOPE = Scope(owner="twitter", repository="typeahead-js")
JANE = {"id": 28, "username": "janedoe", "name": "Jane Doe"}
EXAMPLES = sorted(p.name for p in (gitlab_examples() / "docs").glob("audit-events-*.json"))
# Identity and context every example carries; the subject of the change is replaced.
_KEPT = ("author_name", "ip_address", "entity_path")


def _shaped(example: str, event_name: str | None, **details: Any) -> dict[str, Any]:
    value = load_example(f"docs/{example}")
    item: dict[str, Any] = dict(value[0] if isinstance(value, list) else value)
    kept = {k: v for k, v in item["details"].items() if k in _KEPT}
    item["details"] = {**kept, **details}
    if event_name is not None:
        item["event_name"] = event_name
    return item


def _map(item: dict[str, Any], user: dict[str, Any] | None = None) -> Any:
    event = audit_event("gitlab.example.com", SCOPE, PROJECT_AUDIT_ENDPOINT, item, ROOT, user)
    assert event is not None
    assert_valid(event)
    return event


MEMBER = {"target_id": 28, "target_type": "User", "target_details": "Jane Doe"}


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize(
    ("event_name", "details", "action", "change"),
    [
        (
            "member_updated",
            {"custom_message": "Membership updated", "change": "access_level",
             "from": "Default role: Developer", "to": "Default role: Maintainer",
             "as": "Default role: Maintainer"},
            "changed",
            {"from": "developer", "to": "maintainer"},
        ),
        (None, {"change": "access_level", "from": "Reporter", "to": "Owner"}, "changed",
         {"from": "reporter", "to": "owner"}),
        ("member_created", {"add": "user_access", "as": "Default role: Planner"}, "granted",
         {"from": None, "to": "planner"}),
        (None, {"add": "user_access", "as": "Minimal Access"}, "granted",
         {"from": None, "to": "minimal_access"}),
        ("member_destroyed", {"custom_message": "Membership destroyed", "remove": "user_access"},
         "revoked", {"from": None, "to": None}),
    ],
)  # fmt: skip
def test_membership_changes_name_the_login_and_the_roles(
    example: str,
    event_name: str | None,
    details: dict[str, Any],
    action: str,
    change: dict[str, Any],
) -> None:
    item = _shaped(example, event_name, **details, **MEMBER)
    assert target_user_id(item) == 28
    event = _map(item, JANE)
    assert (event.kind, event.action, event.change) == (EventKind.PERMISSION_CHANGE, action, change)
    assert event.target == {"type": "user", "id": "28", "login": "janedoe"}


def test_a_user_whose_name_differs_is_not_taken_for_the_target() -> None:
    """Older GitLab wrote the membership's id as target_id: the user with that id is someone
    else, and the event must not name them."""
    roles = {"change": "access_level", "from": "Developer", "to": "Maintainer"}
    item = _shaped(EXAMPLES[0], None, **roles, **MEMBER)
    stranger = {"id": 28, "username": "root", "name": "Administrator"}
    event = _map(item, stranger)
    assert event.target == {"type": "user", "id": "28", "name": "Jane Doe"}


def _environment(event_name: str, message: str, **details: Any) -> dict[str, Any]:
    return _shaped(
        EXAMPLES[-1],
        event_name,
        custom_message=message,
        target_id=12,
        target_type="ProtectedEnvironment",
        target_details="production",
        **details,
    )


@pytest.mark.parametrize(
    ("item", "setting", "action", "change"),
    [
        (_environment("protected_environment_approval_rule_deleted",
                      "Deleted approval rule for qa-group."),
         "approval_rules", "weakened", None),
        (_environment("protected_environment_approval_rule_added",
                      "Added approval rule for Maintainers with required approval count 1."),
         "approval_rules", "strengthened", None),
        (_environment("protected_environment_approval_rule_updated",
                      "Updated approval rule for security-group with required approval count"
                      " from 2 to 1."),
         "approval_rules", "weakened", None),
        (_environment("protected_environment_approval_rule_updated",
                      "Updated approval rule for user with ID 5 with required approval count 1"
                      " to group with ID 9 with required approval count 5."),
         "approval_rules", "changed", None),
        (_environment("protected_environment_deploy_access_level_added",
                      "Added deploy access level Developers + Maintainers."),
         "deploy_access_levels", "weakened", None),
        (_environment("protected_environment_deploy_access_level_deleted",
                      "Deleted deploy access level user with ID 3."),
         "deploy_access_levels", "strengthened", None),
        (_environment("protected_environment_updated",
                      "Changed required_approval_count from 2 to 1",
                      change="required_approval_count", to=1, **{"from": 2}),
         "required_approval_count", "weakened", {"from": 2, "to": 1}),
        (_environment("protected_environment_updated",
                      "Changed required_approval_count from 1 to 3",
                      change="required_approval_count", to="3", **{"from": "1"}),
         "required_approval_count", "strengthened", {"from": 1, "to": 3}),
    ],
)  # fmt: skip
def test_protected_environment_changes(
    item: dict[str, Any], setting: str, action: str, change: dict[str, Any] | None
) -> None:
    event = _map(item)
    assert event.kind is EventKind.PROTECTION_CHANGE
    assert event.target == {"type": "environment", "name": "production", "setting": setting}
    assert (event.action, event.change) == (action, change)
    assert event.attributes["custom_message"] == item["details"]["custom_message"]
    assert event.attributes["strength"] == {
        "weakened": "weaker", "strengthened": "stronger"}.get(action, "unknown")  # fmt: skip


def _branch(event_name: str, change: str, before: Any, after: Any) -> dict[str, Any]:
    return _shaped(
        EXAMPLES[0],
        event_name,
        change=change,
        target_id=101,
        target_type="ProtectedBranch",
        target_details="main",
        to=after,
        **{"from": before},
    )


@pytest.mark.parametrize(
    ("item", "setting", "action", "change"),
    [
        (_branch("protected_branch_allow_force_push_updated", "allow force push", False, True),
         "allow_force_push", "weakened", {"from": False, "to": True}),
        (_branch("protected_branch_allow_force_push_updated", "allow force push", "true", "false"),
         "allow_force_push", "strengthened", {"from": True, "to": False}),
        (_branch("protected_branch_code_owner_approval_required_updated",
                 "code owner approval required", True, False),
         "code_owner_approval_required", "weakened", {"from": True, "to": False}),
        (_branch("protected_branch_updated", "allowed to push", ["Maintainers"],
                 ["Maintainers", "Developers + Maintainers"]),
         "push_access_levels", "weakened",
         {"from": ["Maintainers"], "to": ["Maintainers", "Developers + Maintainers"]}),
        (_branch("protected_branch_updated", "allowed to merge", ["Maintainers"], ["No one"]),
         "merge_access_levels", "changed", {"from": ["Maintainers"], "to": ["No one"]}),
    ],
)  # fmt: skip
def test_protected_branch_changes(
    item: dict[str, Any], setting: str, action: str, change: dict[str, Any]
) -> None:
    event = _map(item)
    assert event.target == {"type": "branch", "name": "main", "setting": setting}
    assert (event.kind, event.action, event.change) == (
        EventKind.PROTECTION_CHANGE,
        action,
        change,
    )


@pytest.mark.parametrize(
    ("event_name", "action"),
    [("protected_environment_created", "added"), ("protected_environment_deleted", "removed")],
)
def test_a_protected_environment_created_or_deleted(event_name: str, action: str) -> None:
    event = _map(_environment(event_name, "Protected environment"))
    assert (event.target, event.action) == ({"type": "environment", "name": "production"}, action)


@pytest.mark.parametrize(("name", "index"), [(n, 0) for n in EXAMPLES])
def test_the_documented_examples_keep_their_mapping(name: str, index: int) -> None:
    """The examples as GitLab documents them (approval settings, archival, deletion) map
    as before: only the membership and protected branch/environment shapes are refined."""
    value = load_example(f"docs/{name}")
    item = value[index] if isinstance(value, list) else value
    event = audit_event("gitlab.example.com", SCOPE, PROJECT_AUDIT_ENDPOINT, item, ROOT)
    if "change" in item["details"]:
        assert event is not None and event.action == "changed"
        assert event.target is not None and event.target["type"] == "Project"
    else:
        assert event is None


def test_an_older_protected_branch_event_without_a_name_is_still_a_protection_change() -> None:
    both = ["Developers + Maintainers", "Maintainers"]
    item = _branch("protected_branch_updated", "allowed to push", both, ["Maintainers"])
    del item["event_name"]
    event = _map(item)
    assert (event.kind, event.action) == (EventKind.PROTECTION_CHANGE, "strengthened")
