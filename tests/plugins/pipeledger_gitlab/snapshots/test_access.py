"""Members, protected environments and protected branches (GitLab's documentation examples)
as the grants and protections a snapshot holds, and how their changes are ranked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeledger.events import Scope
from pipeledger.snapshots import Grant
from pipeledger_gitlab.access.terms import ACCESS_TERMS
from pipeledger_gitlab.normalize.access import (
    branch_protections,
    environment_protections,
    member_grants,
    role_from_text,
    role_of,
)
from tests.fakes.gitlab_render import LOCAL_EXAMPLES
from tests.plugins.pipeledger_gitlab.conftest import load_example

SCOPE = Scope(owner="acme", repository="web")


def _local(name: str) -> Any:
    return json.loads((LOCAL_EXAMPLES / name).read_text(encoding="utf-8"))


def test_members_all_become_grants() -> None:
    members = load_example("docs/members-list-all.group-or-project.json")
    assert member_grants(members, SCOPE) == [
        Grant("user", name, "developer", SCOPE) for name in ("raymond_smith", "john_doe", "foo_bar")
    ]


@pytest.mark.parametrize(
    ("level", "role"),
    [(10, "guest"), (15, "planner"), (20, "reporter"), (30, "developer"), (40, "maintainer"),
     (50, "owner"), (5, "minimal_access"), (99, "level:99")],
)  # fmt: skip
def test_access_levels_have_role_names(level: int, role: str) -> None:
    assert role_of(level) == role


@pytest.mark.parametrize(
    ("text", "role"),
    [("Maintainer", "maintainer"), ("Default role: Owner", "owner"),
     ("Minimal Access", "minimal_access"), ("Custom role: Auditor", "custom_role:_auditor"),
     ("", None), (None, None)],
)  # fmt: skip
def test_audit_role_texts_use_the_same_names(text: str | None, role: str | None) -> None:
    assert role_from_text(text) == role


@pytest.mark.parametrize(
    ("example", "settings"),
    [
        ("docs/protected-environments-list.json",
         {"deploy_access_levels": ["role:maintainer"], "approval_rules": {},
          "required_approval_count": 0}),
        ("docs/protected-environments-create.with-approval_rules.json",
         {"deploy_access_levels": ["group:9899826"],
          "approval_rules": {"group:134": 1, "group:135": 2}, "required_approval_count": 0}),
        ("docs/protected-environments-update.create-deploy_access_level.json",
         {"deploy_access_levels": ["group:9899829+subgroups"], "approval_rules": {},
          "required_approval_count": 0}),
        ("docs/protected-environments-update.update-deploy_access_level.json",
         {"deploy_access_levels": ["group:22034120"], "approval_rules": {},
          "required_approval_count": 2}),
    ],
)  # fmt: skip
def test_protected_environments_become_protections(example: str, settings: dict[str, Any]) -> None:
    value = load_example(example)
    (protection,) = environment_protections(value if isinstance(value, list) else [value], SCOPE)
    assert protection.target == "environment:production"
    assert dict(protection.settings) == settings


def test_protected_branches_become_protections() -> None:
    free, premium = (
        _local("protected-branches-list.json"),
        _local("protected-branches-list.premium.json"),
    )
    main, release = branch_protections(free, SCOPE)
    assert (main.target, release.target) == ("branch:main", "branch:release/*")
    assert dict(main.settings) == {
        "push_access_levels": ["deploy_key:1", "role:maintainer"],
        "merge_access_levels": ["role:maintainer"],
        "allow_force_push": False,
        "code_owner_approval_required": False,
    }
    (inherited,) = branch_protections(premium, SCOPE)
    assert inherited.settings["merge_access_levels"] == ["group:1234"]


def test_a_renamed_group_is_not_a_changed_rule() -> None:
    value = load_example("docs/protected-environments-create.with-approval_rules.json")
    renamed = json.loads(json.dumps(value))
    renamed["approval_rules"][0]["access_level_description"] = "quality-group"
    assert environment_protections([value], SCOPE) == environment_protections([renamed], SCOPE)


@pytest.mark.parametrize(
    ("setting", "old", "new", "verdict"),
    [
        ("approval_rules", {"group:134": 1, "group:135": 2}, {"group:135": 2}, "weakened"),
        ("approval_rules", {"group:135": 2}, {"group:135": 1}, "weakened"),
        ("approval_rules", {"group:135": 1}, {"group:135": 1, "user:5": 1}, "strengthened"),
        ("approval_rules", {"group:135": 2}, {"group:135": 1, "user:5": 1}, "changed"),
        ("deploy_access_levels", ["role:maintainer"], ["role:developer", "role:maintainer"],
         "weakened"),
        ("deploy_access_levels", ["role:maintainer", "user:3"], ["role:maintainer"],
         "strengthened"),
        ("push_access_levels", ["role:maintainer"], ["role:developer"], "changed"),
        ("merge_access_levels", ["role:developer"], [], "strengthened"),
        ("required_approval_count", 2, 1, "weakened"),
        ("allow_force_push", False, True, "weakened"),
        ("code_owner_approval_required", True, False, "weakened"),
    ],
)  # fmt: skip
def test_gitlab_settings_are_ranked(setting: str, old: Any, new: Any, verdict: str) -> None:
    assert ACCESS_TERMS.setting_change(setting, old, new) == verdict
