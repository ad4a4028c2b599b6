"""GitLab's access terms: its membership and rule roles in order of power, and which way each
protection setting the adapter records guards."""

from __future__ import annotations

import pytest

from pipeledger.registry import load_access_terms
from pipeledger_gitlab.access.terms import ACCESS_TERMS as GITLAB
from pipeledger_gitlab.normalize.access import MEMBER_ROLES, RULE_ROLES

LEVEL = {"access_level": 40}
ANOTHER = {"access_level": 30}


def test_they_are_the_terms_registered_for_gitlab() -> None:
    assert load_access_terms("gitlab") is GITLAB


def test_membership_levels_rank_in_gitlabs_order() -> None:
    ranks = [GITLAB.role_rank(MEMBER_ROLES[level]) for level in sorted(MEMBER_ROLES)]
    assert ranks == sorted(ranks)
    assert GITLAB.role_rank("maintainer") > GITLAB.role_rank("developer") > 0
    assert GITLAB.role_rank("Owner") > GITLAB.role_rank("maintainer")


def test_every_role_the_adapter_writes_is_ranked_or_powerless_on_purpose() -> None:
    written = {*MEMBER_ROLES.values(), *RULE_ROLES.values()}
    assert written <= set(GITLAB.role_ranks)
    assert GITLAB.role_rank("maintain") == 0  # GitHub's word means nothing here


@pytest.mark.parametrize(
    ("setting", "old", "new", "verdict"),
    [
        ("required_approvals", 2, 1, "weakened"),
        ("required_approval_count", 0, 1, "strengthened"),
        ("code_owner_approval_required", True, False, "weakened"),
        ("allow_force_push", False, True, "weakened"),
        ("deploy_access_levels", [LEVEL], [LEVEL, ANOTHER], "weakened"),
        ("deploy_access_levels", [LEVEL, ANOTHER], [LEVEL], "strengthened"),
        ("push_access_levels", [LEVEL], None, "weakened"),
        ("approval_rules", {"group:sec": 2}, {"group:sec": 1}, "weakened"),
        ("approval_rules", {"group:sec": 1}, {"group:sec": 1, "user:7": 1}, "strengthened"),
    ],
)
def test_setting_changes(setting: str, old: object, new: object, verdict: str) -> None:
    assert GITLAB.setting_change(setting, old, new) == verdict


def test_github_settings_are_not_gitlab_terms() -> None:
    assert GITLAB.known_setting_change("wait_timer", 30, 0) is None
    assert GITLAB.known_setting_change("rule:deletion", True, None) is None
