"""GitLab's JSON shapes for what snapshots read: protected environments and protected
branches, each a documentation example with identity fields and rules replaced. Standard
library only."""

from __future__ import annotations

from tests.fakes.gitlab_data import FakeAccessRule, FakeProtectedBranch, FakeProtectedEnvironment
from tests.fakes.gitlab_render import JSON, TEMPLATES, overlay

ROLE_DESCRIPTIONS = {0: "No one", 30: "Developers + Maintainers", 40: "Maintainers", 60: "Admins"}


def _rule(template: JSON, rule: FakeAccessRule) -> JSON:
    """An access rule: exactly one of a role, a user or a group, as GitLab shows it."""
    if rule.user is not None:
        description = rule.user.name
    elif rule.group_id is not None:
        description = rule.group_name or f"group-{rule.group_id}"
    else:
        description = ROLE_DESCRIPTIONS.get(rule.access_level or 0, "Maintainers")
    rendered = {
        **template,
        "id": rule.id,
        "access_level": rule.access_level,
        "access_level_description": description,
        "user_id": rule.user.id if rule.user is not None else None,
        "group_id": rule.group_id,
    }
    if "group_inheritance_type" in template:
        rendered["group_inheritance_type"] = rule.group_inheritance_type
    if rule.required_approvals is not None:
        rendered["required_approvals"] = rule.required_approvals
    rendered.pop("deploy_key_id", None)
    return rendered


def render_protected_environment(environment: FakeProtectedEnvironment) -> JSON:
    deploy = TEMPLATES["protected_environment"]["deploy_access_levels"][0]
    approval = TEMPLATES["environment_rules"]["approval_rules"][0]
    return overlay(
        "protected_environment",
        {
            "name": environment.name,
            "deploy_access_levels": [_rule(deploy, r) for r in environment.deploy_access_levels],
            "required_approval_count": environment.required_approval_count,
            "approval_rules": [_rule(approval, r) for r in environment.approval_rules],
        },
    )


def render_protected_branch(branch: FakeProtectedBranch) -> JSON:
    template = TEMPLATES["protected_branch"]
    push, merge = template["push_access_levels"][0], template["merge_access_levels"][0]
    return overlay(
        "protected_branch",
        {
            "id": branch.id,
            "name": branch.name,
            "push_access_levels": [_rule(push, r) for r in branch.push_access_levels],
            "merge_access_levels": [_rule(merge, r) for r in branch.merge_access_levels],
            "allow_force_push": branch.allow_force_push,
            "code_owner_approval_required": branch.code_owner_approval_required,
            "inherited": False,
        },
    )
