"""permission-change and protection-drift, on fixture events until the adapters emit them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.registry import load_access_terms
from tests.core.policy.builders import actor, judge, make, messages, policy_from, rule_yaml

PERMISSIONS = """
  - id: admin-grants
    type: permission-change
    severity: warning
    allowed: {users: [root-admin]}
"""
PROTECTION = """
  - id: drift
    type: protection-drift
    targets: [main, "release/*", production]
    allowed: {teams: [platform]}
"""


def grant(
    to: Any, before: Any = None, who: str | None = "mallory", action: str = "granted"
) -> AuditEvent:
    return make(
        EventKind.PERMISSION_CHANGE,
        f"{who}/{to}/{action}",
        action=action,
        at="2026-03-11T10:00:00Z",
        who=actor(who),
        target={"type": "user", "login": "eve"},
        change={"from": before, "to": to},
    )


def protection(before: Any, after: Any, name: str = "main", action: str = "updated") -> AuditEvent:
    return make(
        EventKind.PROTECTION_CHANGE,
        f"{name}/{action}/{before}/{after}",
        action=action,
        at="2026-03-11T10:00:00Z",
        who=actor("mallory"),
        target={"type": "branch", "name": name},
        change={"from": before, "to": after},
    )


@pytest.fixture
def permissions(tmp_path: Path) -> LoadedPolicy:
    return policy_from(tmp_path, rule_yaml(PERMISSIONS))


@pytest.fixture
def drift(tmp_path: Path) -> LoadedPolicy:
    return policy_from(tmp_path, rule_yaml(PROTECTION))


def test_admin_grant_by_someone_not_allowed(permissions: LoadedPolicy) -> None:
    [finding] = judge(permissions, [grant("admin", "write")]).findings
    assert (
        finding.message == "mallory gave user eve the admin role (was write) in octo-org/octo-repo."
    )
    assert finding.severity.value == "warning" and finding.subject.kind == "permission.change"


@pytest.mark.parametrize(
    "event",
    [
        grant("write", "read"),  # not a powerful role
        grant("admin", "admin"),  # no change
        grant("admin", "write", who="root-admin"),  # allowed granter
        grant("read", "admin", action="revoked"),
    ],
)
def test_no_finding(permissions: LoadedPolicy, event: AuditEvent) -> None:
    assert judge(permissions, [event]).findings == []


def test_grant_seen_only_in_snapshots_names_nobody(permissions: LoadedPolicy) -> None:
    assert messages(judge(permissions, [grant({"role_name": "maintain"}, who=None)]))[0].startswith(
        "someone unknown gave"
    )


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        ({"required_approving_review_count": 2}, {"required_approving_review_count": 1}, "2 -> 1"),
        ({"enforce_admins": True}, {"enforce_admins": False}, "enforce_admins off"),
        ({"allow_force_pushes": False}, {"allow_force_pushes": True}, "allow_force_pushes on"),
        ({"required_status_checks": ["ci", "lint"]}, {"required_status_checks": ["ci"]}, "2 -> 1"),
        (
            {"required_pull_request_reviews": {"require_code_owner_reviews": True}},
            {"required_pull_request_reviews": None},
            "required_pull_request_reviews: removed",
        ),
    ],
)
def test_weakened_protection(drift: LoadedPolicy, before: Any, after: Any, reason: str) -> None:
    [text] = messages(judge(drift, [protection(before, after)]))
    assert reason in text and "mallory weakened the branch protection of main" in text


@pytest.mark.parametrize(
    "event",
    [
        protection({"required_approving_review_count": 1}, {"required_approving_review_count": 2}),
        protection({"enforce_admins": False}, {"enforce_admins": True}),
        protection(
            {"required_approving_review_count": 1}, {"required_approving_review_count": 0}, "dev"
        ),
    ],
)
def test_strengthened_or_untracked(drift: LoadedPolicy, event: AuditEvent) -> None:
    assert judge(drift, [event]).findings == []


LEVEL = {"access_level": 40}
ANOTHER = {"access_level": 30}
DEPLOYERS = "deploy_access_levels"


@pytest.mark.parametrize(
    ("platform", "before", "after", "weaker"),
    [
        # Who may deploy or push: one more is weaker, one fewer stronger (the generic reading
        # of a shortened list used to call the latter weaker).
        (
            "gitlab",
            {"deploy_access_levels": [LEVEL]},
            {"deploy_access_levels": [LEVEL, ANOTHER]},
            True,
        ),
        (
            "gitlab",
            {"deploy_access_levels": [LEVEL, ANOTHER]},
            {"deploy_access_levels": [LEVEL]},
            False,
        ),
        ("github", {"push_allowances": [LEVEL]}, {"push_allowances": None}, True),
        ("github", {"deployment_branches": "protected"}, {"deployment_branches": "all"}, True),
        ("github", {"deployment_branches": "all"}, {"deployment_branches": "protected"}, False),
        ("github", {"can_admins_bypass": False}, {"can_admins_bypass": True}, True),
        ("github", {"lock_branch": True}, {"lock_branch": False}, True),
        ("gitlab", {"allow_force_push": False}, {"allow_force_push": True}, True),
    ],
)
def test_one_reading_of_weaker_for_policies_and_collectors(
    drift: LoadedPolicy, platform: str, before: dict[str, Any], after: dict[str, Any], weaker: bool
) -> None:
    """The rule and the platform's collectors (its registered access terms) agree on every
    setting the terms know."""
    [(setting, old)], new = before.items(), next(iter(after.values()))
    terms = load_access_terms(platform)
    assert (terms.setting_change(setting, old, new) == "weakened") is weaker
    found = messages(judge(drift, [replace(protection(before, after), platform=platform)]))
    assert bool(found) is weaker
    if weaker:
        assert setting in found[0]


def test_a_setting_is_ranked_by_the_terms_of_the_platform_that_recorded_it(
    drift: LoadedPolicy,
) -> None:
    """One more level allowed to deploy is weaker in GitLab's terms; GitHub's terms do not
    know the setting, so a GitHub event is read by its name (a longer list of a setting that
    is not permissive by name is no weakening)."""
    before, after = {DEPLOYERS: [LEVEL]}, {DEPLOYERS: [LEVEL, ANOTHER]}
    on_gitlab = replace(protection(before, after), platform="gitlab")
    assert messages(judge(drift, [on_gitlab]))
    assert judge(drift, [protection(before, after)]).findings == []


def test_deleted_protection_and_allowed_team(drift: LoadedPolicy) -> None:
    deleted = protection({"enforce_admins": True}, None, "release/2.0", action="deleted")
    assert "protection deleted" in messages(judge(drift, [deleted]))[0]
    assert judge(drift, [deleted], {"platform": ["Mallory"]}).findings == []


@pytest.mark.parametrize(
    ("platform", "role", "judged"),
    [
        ("github", "maintain", True),
        ("github", "admin", True),
        ("github", "write", False),
        ("gitlab", "maintainer", True),
        ("gitlab", "owner", True),
        ("gitlab", "developer", False),
        # a platform whose plugin declares no terms has no powerful roles by default
        ("bitbucket", "admin", False),
    ],
)
def test_powerful_roles_are_the_platforms_by_default(
    permissions: LoadedPolicy, platform: str, role: str, judged: bool
) -> None:
    event = replace(grant(role, "reporter"), platform=platform)
    assert bool(judge(permissions, [event]).findings) is judged


def test_roles_named_by_the_rule_replace_the_platforms(tmp_path: Path) -> None:
    named = policy_from(tmp_path, rule_yaml(PERMISSIONS + "    roles: [write]\n"))
    assert judge(named, [grant("write", "read")]).findings
    assert judge(named, [grant("admin", "read")]).findings == []
