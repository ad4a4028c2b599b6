"""Collaborators, members, teams, environments, branch protection and branch rules from
GitHub's own example payloads (tests/fixtures/github, its fake-extra folder included)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeledger.events import Scope
from pipeledger.snapshots import Snapshot, diff_snapshots
from pipeledger_github.normalize.access import (
    branch_policy_names,
    branch_protection,
    collaborator_grants,
    environment_protection,
    member_grants,
    needs_branch_policies,
    role_of,
    ruleset_protections,
    team_repository_grants,
    team_slugs,
)
from tests.fakes.github_access import EXTRA_EXAMPLES
from tests.fakes.github_data import _github_examples_root

ROOT = _github_examples_root()
SCOPE = Scope(owner="octo-org", repository="hello-world")


def example(rel: str) -> Any:
    path = ROOT / rel if (ROOT / rel).exists() else EXTRA_EXAMPLES / Path(rel).name
    return json.loads(path.read_text(encoding="utf-8"))


def test_collaborators_carry_their_role_name() -> None:
    grants = collaborator_grants(
        example("rest/repos-collaborators-list.collaborator-items.json"), SCOPE
    )
    assert [(g.subject, g.role) for g in grants] == [("octocat", "write")]


def test_old_collaborator_shapes_fall_back_to_the_permissions_hash() -> None:
    items = example("derived/repos-collaborators-list.without-role_name.json")
    assert all("role_name" not in item for item in items)
    roles = {g.role for g in collaborator_grants(items, SCOPE)}
    assert roles <= {"admin", "write", "read"} and roles


def test_a_removed_collaborator_is_a_revocation() -> None:
    """octokit's recorded add-and-remove-collaborator scenario, snapshot after snapshot."""
    before = example(
        "recorded/octokit-fixtures/repos-collaborators-list.after-invite-accepted.json"
    )
    after = example("recorded/octokit-fixtures/repos-collaborators-list.after-remove.json")
    first, second = (
        Snapshot.build("github", "github.com", "o/r", moment, collaborator_grants(items, SCOPE))
        for moment, items in (
            (datetime(2026, 1, 1, tzinfo=UTC), before),
            (datetime(2026, 1, 2, tzinfo=UTC), after),
        )
    )
    (event,) = diff_snapshots(first, second)
    assert (event.action, event.change) == ("revoked", {"from": "write", "to": None})


def test_role_of_prefers_role_name_and_knows_legacy_names() -> None:
    assert role_of({"role_name": "maintain", "permissions": {"push": True}}) == "maintain"
    assert role_of({"permissions": {"admin": False, "push": True, "pull": True}}) == "write"
    assert role_of({"permission": "pull"}) == "read"
    assert role_of({}) is None


def test_members_teams_and_team_repositories() -> None:
    members = member_grants(
        example("openapi-extra/orgs-members.simple-user-items.json"), "admin", "o"
    )
    assert [(g.subject, g.role, g.scope.repository) for g in members] == [
        ("octocat", "admin", None)
    ]
    assert team_slugs(example("openapi-extra/orgs-teams.team-items.json")) == ["justice-league"]
    repos = example("derived/teams-repos-list.admin.json")
    grants = team_repository_grants(repos, "devs", "octocat")
    assert [(g.subject, g.scope.repository, g.role) for g in grants] == [
        ("devs", "Hello-World", "admin")
    ]
    checked = example(
        "rest/teams-check-repo-permissions.team-repository-alternative-response-with-repository-permissions.json"
    )
    assert role_of(checked) == "read"


def test_the_spec_environment_example() -> None:
    (environment,) = example("rest/environments-list.environments.json")["environments"]
    assert needs_branch_policies(environment)
    policies = branch_policy_names(
        example("rest/environments-deployment-branch-policies-list.json")["branch_policies"]
    )
    protection = environment_protection(environment, policies, SCOPE)
    assert protection is not None
    assert protection.target == "environment:staging"
    assert protection.scope.environment == "staging"
    assert dict(protection.settings) == {
        "required_reviewers": ["team:justice-league", "user:octocat"],
        "prevent_self_review": False,
        "wait_timer": 30,
        "deployment_branches": "custom",
        "branch_policies": ["main", "release/*"],
        "custom_rules": [],
    }


def test_an_older_environment_shape_with_reviewers() -> None:
    environment = example(
        "derived/environments-get.protected-branches-without-prevent_self_review.json"
    )
    protection = environment_protection(environment, None, SCOPE)
    assert protection is not None
    settings = protection.settings
    assert settings["wait_timer"] == 30
    assert settings["deployment_branches"] == "protected"
    assert settings["prevent_self_review"] is None  # not in this older payload
    assert settings["required_reviewers"] == ["team:justice-league", "user:octocat"]


def test_an_environment_that_guards_nothing_is_no_protection() -> None:
    environment = dict(example("rest/environments-get.environment.json"))
    assert environment_protection(environment, None, SCOPE) is not None
    environment.update(protection_rules=[], deployment_branch_policy=None)
    assert environment_protection(environment, None, SCOPE) is None


def test_the_spec_branch_protection_example() -> None:
    protection = branch_protection(
        example("repos-branch-protection.branch-protection.json"), "master", SCOPE
    )
    assert protection.target == "branch:master"
    assert dict(protection.settings) == {
        "required_pull_request_reviews": True,
        "required_approving_review_count": 2,
        "dismiss_stale_reviews": True,
        "require_code_owner_reviews": True,
        "require_last_push_approval": True,
        "required_status_checks": ["continuous-integration/travis-ci"],
        "enforce_admins": True,
        "required_linear_history": True,
        "allow_force_pushes": True,
        "allow_deletions": True,
        "required_conversation_resolution": True,
        "lock_branch": True,
        "push_allowances": ["app:octoapp", "team:justice-league", "user:octocat"],
    }


def test_branch_rules_are_grouped_by_ruleset() -> None:
    rules = example("repos-rules-branches.repository-rule-detailed-items.json")
    protections = ruleset_protections(rules, "main", SCOPE)
    assert [p.target for p in protections] == ["ruleset:42", "ruleset:73"]
    assert dict(protections[0].settings) == {
        "branch": "main",
        "source": "Repository:monalisa/my-repo",
        "rule:commit_message_pattern": {"operator": "starts_with", "pattern": "issue"},
    }
    assert protections[1].settings["source"] == "Organization:my-org"
