"""Who-can-do-what for the fake GitHub API: collaborators, organization members, teams and
their repositories, environments with protection rules, branch protection, branch rules and
the organization audit log (on or off, like Enterprise Cloud or not).

The model (:class:`AccessState`) and its JSON rendering from GitHub's own examples
(``tests/fixtures/github``, with ``fake-extra`` for what the fake adds; see its SOURCE.md);
the routes :class:`~tests.fakes.github_api.FakeGitHubServer` mounts are in
:mod:`tests.fakes.github_access_routes`. Team membership comes from ``FakeOrg.teams`` /
``team_maintainers``, like the memberships endpoint.
Standard library only.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.fakes.github_data import (
    JSON,
    FakeOrg,
    FakeRepo,
    FakeUser,
    _github_examples_root,
    fake_sha,
    iso,
    node_id,
    overlay,
    rebase,
    render_repo_minimal,
    render_user,
)
from tests.paths import fixture

EXTRA_EXAMPLES = fixture("github", "fake-extra")
ROLE_FLAGS = {  # role_name -> permissions hash, as GitHub derives it
    "read": {"pull": True, "triage": False, "push": False, "maintain": False, "admin": False},
    "triage": {"pull": True, "triage": True, "push": False, "maintain": False, "admin": False},
    "write": {"pull": True, "triage": True, "push": True, "maintain": False, "admin": False},
    "maintain": {"pull": True, "triage": True, "push": True, "maintain": True, "admin": False},
    "admin": {"pull": True, "triage": True, "push": True, "maintain": True, "admin": True},
}


def _load(root: Path, rel: str) -> Any:
    with (root / rel).open(encoding="utf-8") as fh:
        return json.load(fh)


def _templates() -> dict[str, Any]:
    root = _github_examples_root()
    environment = _load(root, "rest/environments-list.environments.json")["environments"][0]
    rules = {rule["type"]: rule for rule in environment["protection_rules"]}
    return {
        "collaborator": _load(root, "rest/repos-collaborators-list.collaborator-items.json")[0],
        "team": _load(root, "openapi-extra/orgs-teams.team-items.json")[0],
        "environment": environment,
        "rules": rules,
        "team_reviewer": rules["required_reviewers"]["reviewers"][1]["reviewer"],
        "branch_policy": _load(root, "rest/environments-deployment-branch-policies-list.json")[
            "branch_policies"
        ][0],
        "audit_entry": _load(root, "rest/orgs-audit-log.audit-log.ghec.json")[0],
        "branch_protection": _load(
            EXTRA_EXAMPLES, "repos-branch-protection.branch-protection.json"
        ),
        "rule": _load(EXTRA_EXAMPLES, "repos-rules-branches.repository-rule-detailed-items.json")[
            0
        ],
        "short_branch": _load(
            EXTRA_EXAMPLES, "repos-branches.short-branch-with-protection-items.json"
        )[0],
    }


TEMPLATES = _templates()


@dataclass
class FakeEnvironment:
    """``reviewers``: ("User", login) or ("Team", slug); ``branches``: all, protected, custom."""

    reviewers: list[tuple[str, str]] = field(default_factory=list)
    prevent_self_review: bool = False
    wait_timer: int = 0
    branches: str = "all"
    patterns: list[str] = field(default_factory=list)
    can_admins_bypass: bool = True


@dataclass
class FakeBranchProtection:
    required_approving_review_count: int = 1
    dismiss_stale_reviews: bool = False
    require_code_owner_reviews: bool = False
    require_last_push_approval: bool = False
    enforce_admins: bool = False
    contexts: list[str] = field(default_factory=lambda: ["ci"])
    allow_force_pushes: bool = False
    allow_deletions: bool = False
    push_allowances: list[str] | None = None  # logins; None: no push restriction


@dataclass
class FakeRule:
    type: str
    ruleset_id: int
    source: str
    source_type: str = "Repository"
    parameters: dict[str, Any] | None = None


@dataclass
class RepoAccess:
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role_name
    environments: dict[str, FakeEnvironment] = field(default_factory=dict)
    protection: FakeBranchProtection | None = None  # of the default branch
    rules: list[FakeRule] = field(default_factory=list)  # active on the default branch


@dataclass
class AccessState:
    """``audit_log_status`` None: the org has the audit-log API (Enterprise Cloud); 404 or
    403: it answers that, as for an org without it or a token without the scope."""

    members: dict[str, str] = field(default_factory=dict)  # login -> admin | member
    team_repos: dict[str, dict[str, str]] = field(default_factory=dict)  # slug -> repo -> role
    repos: dict[str, RepoAccess] = field(default_factory=dict)
    audit_log: list[JSON] = field(default_factory=list)
    audit_log_status: int | None = 404
    user_ids: dict[str, int] = field(default_factory=dict)

    def repo(self, name: str) -> RepoAccess:
        return self.repos.setdefault(name, RepoAccess())

    def user(self, login: str) -> FakeUser:
        ident = self.user_ids.get(login) or 2_000_000 + int(fake_sha("user", login)[:6], 16)
        return FakeUser(login, ident)

    def log(self, action: str, at: datetime, actor: str, **fields: Any) -> JSON:
        """Append an audit-log entry shaped like GitHub's example."""
        millis = int(at.timestamp() * 1000)
        document = base64.urlsafe_b64encode(fake_sha(action, millis, fields)[:16].encode())
        values = {
            "@timestamp": millis,
            "action": action,
            "actor": actor,
            "created_at": millis,
            "_document_id": document.decode().rstrip("="),
        }
        entry = overlay({k: v for k, v in TEMPLATES["audit_entry"].items() if k in values}, values)
        entry.update(fields)
        self.audit_log.append(entry)
        return entry


def render_collaborator(access: AccessState, login: str, role: str, base: str) -> JSON:
    values = dict(render_user(access.user(login), base))
    values.update(permissions=dict(ROLE_FLAGS[role]), role_name=role)
    return overlay(TEMPLATES["collaborator"], values)


def render_team(org: FakeOrg, slug: str, base: str) -> JSON:
    ident = org.team_id(slug)
    values = {
        "id": ident,
        "node_id": node_id("Team", ident),
        "url": f"{base}/organizations/{org.id}/team/{ident}",
        "html_url": f"https://github.com/orgs/{org.login}/teams/{slug}",
        "name": slug.replace("-", " ").title(),
        "slug": slug,
        "description": None,
        "permission": "pull",
        "members_url": f"{base}/organizations/{org.id}/team/{ident}/members{{/member}}",
        "repositories_url": f"{base}/organizations/{org.id}/team/{ident}/repos",
    }
    return overlay(TEMPLATES["team"], values)


def render_team_repo(repo: FakeRepo, role: str, base: str) -> JSON:
    rendered = dict(render_repo_minimal(repo, base))
    rendered.update(permissions=dict(ROLE_FLAGS[role]), role_name=role)
    return rendered


def render_environment(
    org: FakeOrg, access: AccessState, repo: FakeRepo, name: str, env: FakeEnvironment, base: str
) -> JSON:
    env_id = repo.environment_id(name)
    values: JSON = {
        "id": env_id,
        "node_id": node_id("Environment", env_id),
        "name": name,
        "url": f"{base}/repos/{repo.owner}/{repo.name}/environments/{quote(name)}",
        "html_url": (
            f"https://github.com/{repo.owner}/{repo.name}/deployments/activity_log"
            f"?environments_filter={quote(name)}"
        ),
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.created_at),
        "protection_rules": _environment_rules(org, access, env, env_id, base),
        "deployment_branch_policy": _branch_policy(env),
    }
    rendered = overlay(TEMPLATES["environment"], values)
    rendered["can_admins_bypass"] = env.can_admins_bypass  # see examples/SOURCE.md
    return rendered


def _environment_rules(
    org: FakeOrg, access: AccessState, env: FakeEnvironment, env_id: int, base: str
) -> list[JSON]:
    rules = TEMPLATES["rules"]
    out: list[JSON] = []
    if env.wait_timer:
        out.append(overlay(rules["wait_timer"], {"id": env_id + 1, "wait_timer": env.wait_timer}))
    if env.reviewers:
        reviewers = [_reviewer(org, access, kind, name, base) for kind, name in env.reviewers]
        values = {"id": env_id + 2, "prevent_self_review": env.prevent_self_review}
        out.append(overlay(rules["required_reviewers"], {**values, "reviewers": reviewers}))
    if env.branches != "all":
        out.append(overlay(rules["branch_policy"], {"id": env_id + 3}))
    return out


def _reviewer(org: FakeOrg, access: AccessState, kind: str, name: str, base: str) -> JSON:
    if kind == "User":
        return {"type": "User", "reviewer": render_user(access.user(name), base)}
    team = rebase(TEMPLATES["team_reviewer"], (("justice-league", name),))
    team.update(id=org.team_id(name), name=name.replace("-", " ").title(), slug=name)
    return {"type": "Team", "reviewer": team}


def _branch_policy(env: FakeEnvironment) -> JSON | None:
    if env.branches == "all":
        return None
    protected = env.branches == "protected"
    return {"protected_branches": protected, "custom_branch_policies": not protected}


def render_branch_policy(repo: FakeRepo, env: str, index: int, pattern: str) -> JSON:
    ident = repo.environment_id(env) * 10 + index
    values = {"id": ident, "node_id": node_id("GateBranchPolicy", ident), "name": pattern}
    return overlay(TEMPLATES["branch_policy"], values)


def render_branch_protection(
    access: AccessState, repo: FakeRepo, protection: FakeBranchProtection, base: str
) -> JSON:
    url = f"{base}/repos/{repo.owner}/{repo.name}/branches/{repo.default_branch}/protection"
    example = "https://api.github.com/repos/octocat/Hello-World/branches/master/protection"
    rendered: JSON = rebase(TEMPLATES["branch_protection"], ((example, url),))
    reviews = rendered["required_pull_request_reviews"]
    for key in (
        "required_approving_review_count",
        "dismiss_stale_reviews",
        "require_code_owner_reviews",
        "require_last_push_approval",
    ):
        reviews[key] = getattr(protection, key)
    rendered["required_status_checks"]["contexts"] = list(protection.contexts)
    rendered["enforce_admins"]["enabled"] = protection.enforce_admins
    rendered["allow_force_pushes"] = {"enabled": protection.allow_force_pushes}
    rendered["allow_deletions"] = {"enabled": protection.allow_deletions}
    if protection.push_allowances is None:
        rendered.pop("restrictions")
    else:
        users = [render_user(access.user(login), base) for login in protection.push_allowances]
        rendered["restrictions"].update(users=users, teams=[], apps=[])
    return rendered


def protected_branches(access: AccessState, repo: FakeRepo) -> list[str]:
    """The branches GitHub lists with ``protected=true``: guarded by classic protection or by
    a ruleset (the fake knows the default branch only)."""
    guards = access.repo(repo.name)
    return [repo.default_branch] if guards.protection is not None or guards.rules else []


def render_short_branch(access: AccessState, repo: FakeRepo, branch: str, base: str) -> JSON:
    """A ``GET /repos/{o}/{r}/branches`` item; ``protection`` summarizes classic protection
    (its status checks) and is left out for a branch guarded by rulesets only."""
    sha = fake_sha("branch", repo.name, branch)
    rendered = overlay(
        TEMPLATES["short_branch"],
        {"name": branch, "protected": branch in protected_branches(access, repo)},
    )
    rendered["commit"] = {"sha": sha, "url": f"{base}/repos/{repo.owner}/{repo.name}/commits/{sha}"}
    protection = access.repo(repo.name).protection if branch == repo.default_branch else None
    if protection is None:
        rendered.pop("protection")
        rendered.pop("protection_url")
        return rendered
    level = "everyone" if protection.enforce_admins else "non_admins"
    checks = {"enforcement_level": level, "contexts": list(protection.contexts)}
    rendered["protection"] = {"required_status_checks": checks}
    path = f"/repos/{repo.owner}/{repo.name}/branches/{quote(branch, safe='')}/protection"
    rendered["protection_url"] = base + path
    return rendered


def render_rule(rule: FakeRule) -> JSON:
    values: JSON = {
        "type": rule.type,
        "ruleset_source_type": rule.source_type,
        "ruleset_source": rule.source,
        "ruleset_id": rule.ruleset_id,
    }
    rendered = overlay(TEMPLATES["rule"], values)
    if rule.parameters is None:
        rendered.pop("parameters")
    else:
        rendered["parameters"] = dict(rule.parameters)
    return rendered


def scenario_access() -> AccessState:
    """Access for :func:`~tests.fakes.github_data.scenario_org` (``acme``: api, web, infra).

    web: alice read, bob write, carol admin, dave write; ``production`` needs carol, dave or
    team release-managers (no self-review, protected branches only, 10 minute wait);
    ``staging`` deploys from ``main`` and ``release/*``; ``main`` is protected (1 review,
    check ``ci``) and has ruleset 42 (no deletion, pull requests) and org ruleset 73.
    api: alice admin, bob write; ``production`` needs bob. infra: bob admin, nothing else.
    Members: alice is an owner. Teams (from the org): developers write everywhere,
    release-managers maintain web and infra. The audit log is off (404).
    """
    access = AccessState(
        members={"alice": "admin", "bob": "member", "carol": "member", "dave": "member"},
        team_repos={
            "developers": {"api": "write", "web": "write", "infra": "write"},
            "release-managers": {"web": "maintain", "infra": "maintain"},
        },
        user_ids={"alice": 1001, "bob": 1002, "carol": 1003, "dave": 1004, "eve": 1005},
    )
    web = access.repo("web")
    web.collaborators = {"alice": "read", "bob": "write", "carol": "admin", "dave": "write"}
    web.environments = {
        "production": FakeEnvironment(
            reviewers=[("User", "carol"), ("User", "dave"), ("Team", "release-managers")],
            prevent_self_review=True,
            wait_timer=10,
            branches="protected",
        ),
        "staging": FakeEnvironment(branches="custom", patterns=["main", "release/*"]),
    }
    web.protection = FakeBranchProtection()
    web.rules = [
        FakeRule("deletion", 42, "acme/web"),
        FakeRule("pull_request", 42, "acme/web", parameters=_REVIEW_RULE),
        FakeRule("required_signatures", 73, "acme", "Organization"),
    ]
    api = access.repo("api")
    api.collaborators = {"alice": "admin", "bob": "write"}
    api.environments = {"production": FakeEnvironment(reviewers=[("User", "bob")])}
    access.repo("infra").collaborators = {"bob": "admin"}
    return access


_REVIEW_RULE = {
    "required_approving_review_count": 1,
    "dismiss_stale_reviews_on_push": True,
    "require_code_owner_review": False,
    "require_last_push_approval": False,
    "required_review_thread_resolution": False,
}
