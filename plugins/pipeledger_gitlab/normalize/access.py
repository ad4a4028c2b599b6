"""Who can do what and what guards deploys, from GitLab's payloads: members (inherited
included) as grants, protected environments and protected branches as protections. Pure
functions; the snapshot diff turns two of these states into events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeledger.plugin import Grant, Protection, Scope

Json = Mapping[str, Any]

# GitLab's membership levels (GET …/members/all ``access_level``).
MEMBER_ROLES = {
    0: "none",
    5: "minimal_access",
    10: "guest",
    15: "planner",
    20: "reporter",
    30: "developer",
    40: "maintainer",
    50: "owner",
}
# Levels in protected branch and protected environment rules (60 = administrators).
RULE_ROLES = {0: "no_one", 30: "developer", 40: "maintainer", 60: "admin"}

_DEFAULT_ROLE_PREFIX = "default role: "


def role_of(access_level: Any) -> str:
    """The role name of a membership level; an unknown level keeps its number."""
    if isinstance(access_level, int) and access_level in MEMBER_ROLES:
        return MEMBER_ROLES[access_level]
    return f"level:{access_level}"


def role_from_text(text: Any) -> str | None:
    """A role as GitLab's audit events write it ("Maintainer", "Default role: Maintainer",
    "Minimal Access") in the names snapshots use ("maintainer", "minimal_access")."""
    if not isinstance(text, str) or not text.strip():
        return None
    name = text.strip().lower()
    if name.startswith(_DEFAULT_ROLE_PREFIX):
        name = name[len(_DEFAULT_ROLE_PREFIX) :]
    return name.replace(" ", "_")


def member_grants(members: Iterable[Json], scope: Scope) -> list[Grant]:
    """One grant per member of ``GET /projects|groups/:id/members/all``: GitLab already
    reduces a user's direct, inherited and invited-group memberships to the highest one."""
    return [
        Grant("user", str(member["username"]), role_of(member.get("access_level")), scope)
        for member in members
    ]


def environment_protections(environments: Iterable[Json], scope: Scope) -> list[Protection]:
    """``GET /projects/:id/protected_environments``: who may deploy, who must approve (and how
    many approvals each rule needs) and the environment-wide approval count."""
    return [
        Protection(
            target=f"environment:{environment['name']}",
            scope=scope,
            settings={
                "deploy_access_levels": _who(environment.get("deploy_access_levels")),
                "approval_rules": _approvals(environment.get("approval_rules")),
                "required_approval_count": int(environment.get("required_approval_count") or 0),
            },
        )
        for environment in environments
    ]


def branch_protections(branches: Iterable[Json], scope: Scope) -> list[Protection]:
    """``GET /projects/:id/protected_branches``: who may push and merge, force push, and
    whether code owners must approve."""
    return [
        Protection(
            target=f"branch:{branch['name']}",
            scope=scope,
            settings={
                "push_access_levels": _who(branch.get("push_access_levels")),
                "merge_access_levels": _who(branch.get("merge_access_levels")),
                "allow_force_push": bool(branch.get("allow_force_push")),
                "code_owner_approval_required": bool(branch.get("code_owner_approval_required")),
            },
        )
        for branch in branches
    ]


def describe_rule(rule: Json) -> str:
    """One access rule by what it names, never by its display text (a renamed group must not
    look like a changed rule): ``user:7``, ``group:134``, ``group:134+subgroups``,
    ``deploy_key:1`` or ``role:maintainer``."""
    if rule.get("user_id") is not None:
        return f"user:{rule['user_id']}"
    if rule.get("group_id") is not None:
        # group_inheritance_type 1: members of the group's subgroups count as well.
        suffix = "+subgroups" if rule.get("group_inheritance_type") == 1 else ""
        return f"group:{rule['group_id']}{suffix}"
    if rule.get("deploy_key_id") is not None:
        return f"deploy_key:{rule['deploy_key_id']}"
    level = rule.get("access_level")
    return f"role:{RULE_ROLES.get(level, level) if isinstance(level, int) else level}"


def _who(rules: Any) -> list[str]:
    return sorted({describe_rule(rule) for rule in _rules(rules)})


def _approvals(rules: Any) -> dict[str, int]:
    needed: dict[str, int] = {}
    for rule in _rules(rules):
        key = describe_rule(rule)
        needed[key] = max(needed.get(key, 0), int(rule.get("required_approvals") or 0))
    return dict(sorted(needed.items()))


def _rules(value: Any) -> list[Json]:
    return [rule for rule in value if isinstance(rule, Mapping)] if isinstance(value, list) else []
