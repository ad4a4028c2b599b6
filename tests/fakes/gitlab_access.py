"""Members and protections of generated fake GitLab projects, and the changes the snapshot
tests make to them, each with the audit event GitLab writes for it (shapes: see
``tests/fixtures/gitlab/fake-extra/SOURCE.md``). Standard library only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tests.fakes.gitlab_data import (
    FakeAccessRule,
    FakeAuditEvent,
    FakeProject,
    FakeProtectedBranch,
    FakeProtectedEnvironment,
    FakeUser,
)

DEVELOPER, MAINTAINER = 30, 40
QA_GROUP, SECURITY_GROUP = (134, "qa-group"), (135, "security-group")
LEVEL_NAMES = {
    10: "Guest",
    15: "Planner",
    20: "Reporter",
    30: "Developer",
    40: "Maintainer",
    50: "Owner",
}

Take = Callable[[str], int]


def add_access(project: FakeProject, developer: FakeUser, bot: FakeUser, take: Take) -> None:
    """A developer and the project's access-token bot as direct members; ``production``
    deployable by maintainers and approved by two groups; ``main`` protected."""
    project.members = [(developer, DEVELOPER), (bot, MAINTAINER)]
    project.protected_environments = [
        FakeProtectedEnvironment(
            "production",
            deploy_access_levels=[FakeAccessRule(take("rule"), access_level=MAINTAINER)],
            approval_rules=[
                _group_rule(take("rule"), QA_GROUP, 1),
                _group_rule(take("rule"), SECURITY_GROUP, 2),
            ],
            required_approval_count=2,
        )
    ]
    project.protected_branches = [
        FakeProtectedBranch(
            take("branch"),
            "main",
            push_access_levels=[FakeAccessRule(take("rule"), access_level=MAINTAINER)],
            merge_access_levels=[FakeAccessRule(take("rule"), access_level=DEVELOPER)],
        )
    ]


def _group_rule(ident: int, group: tuple[int, str], approvals: int) -> FakeAccessRule:
    return FakeAccessRule(
        ident, group_id=group[0], group_name=group[1], required_approvals=approvals
    )


def set_member(project: FakeProject, user: FakeUser, level: int) -> tuple[int | None, int]:
    """Give ``user`` ``level`` in the project; returns (old level or None, new level)."""
    for index, (member, old) in enumerate(project.members):
        if member.id == user.id:
            project.members[index] = (user, level)
            return old, level
    project.members.append((user, level))
    return None, level


def member_audit(
    ident: int, author: FakeUser, at: datetime, user: FakeUser, old: int | None, new: int
) -> FakeAuditEvent:
    """``member_created`` / ``member_updated`` as newer GitLab writes them."""
    target = {"target_id": user.id, "target_type": "User", "target_details": user.name}
    labeled = f"Default role: {LEVEL_NAMES[new]}"
    if old is None:
        details = {"custom_message": "Membership created", "add": "user_access", "as": labeled}
        return FakeAuditEvent(
            ident, author, at, {**details, **target}, ("permission.change", "granted"),
            event_name="member_created",
        )  # fmt: skip
    details = {
        "custom_message": "Membership updated",
        "change": "access_level",
        "from": f"Default role: {LEVEL_NAMES[old]}",
        "to": labeled,
        "as": labeled,
    }
    return FakeAuditEvent(
        ident, author, at, {**details, **target}, ("permission.change", "changed"),
        event_name="member_updated",
    )  # fmt: skip


def remove_approval_rule(
    project: FakeProject, group_name: str, ident: int, author: FakeUser, at: datetime
) -> FakeAuditEvent:
    environment = project.protected_environments[0]
    environment.approval_rules = [
        r for r in environment.approval_rules if r.group_name != group_name
    ]
    return FakeAuditEvent(
        ident,
        author,
        at,
        _environment_details(environment, f"Deleted approval rule for {group_name}."),
        ("protection.change", "weakened"),
        event_name="protected_environment_approval_rule_deleted",
    )


def lower_required_approvals(
    project: FakeProject, count: int, ident: int, author: FakeUser, at: datetime
) -> FakeAuditEvent:
    environment = project.protected_environments[0]
    old, environment.required_approval_count = environment.required_approval_count, count
    message = f"Changed required_approval_count from {old} to {count}"
    details = {
        **_environment_details(environment, message),
        "change": "required_approval_count",
        "from": old,
        "to": count,
    }
    return FakeAuditEvent(
        ident, author, at, details, ("protection.change", "weakened"),
        event_name="protected_environment_updated",
    )  # fmt: skip


def _environment_details(environment: FakeProtectedEnvironment, message: str) -> dict[str, object]:
    return {
        "custom_message": message,
        "target_id": 7,
        "target_type": "ProtectedEnvironment",
        "target_details": environment.name,
    }
