"""GitHub's access terms: its roles in order of power, and which way each protection setting
the adapter records guards."""

from __future__ import annotations

import pytest

from pipeledger.registry import load_access_terms
from pipeledger_github.access.terms import ACCESS_TERMS as GITHUB


def test_they_are_the_terms_registered_for_github() -> None:
    assert load_access_terms("github") is GITHUB


def test_roles_in_order_of_power() -> None:
    order = ["read", "triage", "write", "maintain", "admin", "owner"]
    ranks = [GITHUB.role_rank(role) for role in order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert GITHUB.role_rank("pull") == GITHUB.role_rank("read")
    assert GITHUB.role_rank("push") == GITHUB.role_rank("write")
    assert GITHUB.role_rank("maintainer") == GITHUB.role_rank("maintain")  # a team's maintainer
    assert GITHUB.role_rank("developer") == 0  # GitLab's word means nothing here


@pytest.mark.parametrize(
    ("setting", "old", "new", "verdict"),
    [
        ("wait_timer", 30, 0, "weakened"),
        ("required_approving_review_count", 1, 2, "strengthened"),
        ("enforce_admins", True, False, "weakened"),
        ("can_admins_bypass", False, True, "weakened"),
        ("allow_force_pushes", True, False, "strengthened"),
        ("push_allowances", ["user:a"], ["user:a", "user:b"], "weakened"),
        ("branch_policies", ["main", "release/*"], ["main"], "strengthened"),
        ("push_allowances", None, ["user:a"], "strengthened"),
        ("push_allowances", ["user:a"], None, "weakened"),
        ("required_status_checks", ["ci"], [], "weakened"),
        ("required_reviewers", ["user:a"], ["user:a", "team:sec"], "strengthened"),
        ("deployment_branches", "protected", "all", "weakened"),
        ("deployment_branches", "all", "custom", "strengthened"),
        ("deployment_branches", "custom", "protected", "changed"),
        ("rule:deletion", True, None, "weakened"),
        ("rule:required_deployments", None, {"envs": ["prod"]}, "strengthened"),
        ("rule:update", {"a": 1}, {"a": 2}, "changed"),
        ("custom_thing", "a", "b", "changed"),
    ],
)
def test_setting_changes(setting: str, old: object, new: object, verdict: str) -> None:
    assert GITHUB.setting_change(setting, old, new) == verdict


def test_gitlab_settings_are_not_github_terms() -> None:
    assert GITHUB.known_setting_change("deploy_access_levels", [], [{"access_level": 40}]) is None
    assert GITHUB.known_setting_change("allow_force_push", False, True) is None
