"""Who can do what and what guards deploys, from GitHub payloads: pure functions turning
collaborators, members, teams, environments, branch protection and branch rules into the
platform-neutral :class:`~pipeledger.snapshots.Grant` and :class:`Protection` values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeledger.plugin import Grant, Protection, Scope
from pipeledger_github.normalize.fields import text

# Highest first: the role a `permissions` hash stands for when `role_name` is missing
# (older payloads, team repository lists).
_PERMISSION_ROLES = (
    ("admin", "admin"),
    ("maintain", "maintain"),
    ("push", "write"),
    ("triage", "triage"),
    ("pull", "read"),
)
# Legacy names GitHub still sends in places (team `permission`, audit log).
ROLE_ALIASES = {"pull": "read", "push": "write"}
# Protection rule types of an environment that are read from their own fields.
_KNOWN_ENVIRONMENT_RULES = {"wait_timer", "required_reviewers", "branch_policy"}
# Branch-protection flags shaped {"enabled": bool}, under the names the strength rules know.
_ENABLED_FLAGS = (
    "enforce_admins",
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "required_conversation_resolution",
    "lock_branch",
    "required_signatures",
)
_REVIEW_FLAGS = (
    "required_approving_review_count",
    "dismiss_stale_reviews",
    "require_code_owner_reviews",
    "require_last_push_approval",
)
_RULESET_REVIEW_PARAMETERS = (
    "required_approving_review_count",
    "dismiss_stale_reviews_on_push",
    "require_code_owner_review",
    "require_last_push_approval",
    "required_review_thread_resolution",
)


def role_of(item: Mapping[str, Any]) -> str | None:
    """``role_name`` (custom roles included), else the highest true ``permissions`` flag,
    else a legacy ``permission``."""
    role = text(item, "role_name")
    if role:
        return ROLE_ALIASES.get(role, role)
    permissions = item.get("permissions")
    if isinstance(permissions, Mapping):
        for flag, name in _PERMISSION_ROLES:
            if permissions.get(flag) is True:
                return name
    legacy = text(item, "permission")
    return ROLE_ALIASES.get(legacy, legacy) if legacy else None


def collaborator_grants(items: Iterable[Mapping[str, Any]], scope: Scope) -> list[Grant]:
    return [
        Grant("user", login, role, scope)
        for item in items
        if (login := text(item, "login")) and (role := role_of(item))
    ]


def member_grants(items: Iterable[Mapping[str, Any]], role: str, owner: str) -> list[Grant]:
    scope = Scope(owner=owner)
    return [Grant("user", login, role, scope) for item in items if (login := text(item, "login"))]


def team_member_grants(
    items: Iterable[Mapping[str, Any]], slug: str, role: str, owner: str
) -> list[Grant]:
    scope = Scope(owner=owner)
    via = f"team:{slug}"
    return [
        Grant("user", login, role, scope, via) for item in items if (login := text(item, "login"))
    ]


def team_repository_grants(
    items: Iterable[Mapping[str, Any]], slug: str, owner: str
) -> list[Grant]:
    grants = []
    for item in items:
        name, role = text(item, "name"), role_of(item)
        if name and role:
            grants.append(Grant("team", slug, role, Scope(owner=owner, repository=name)))
    return grants


def team_slugs(items: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({slug for item in items if (slug := text(item, "slug"))})


def environment_protection(
    environment: Mapping[str, Any], branch_policies: Sequence[str] | None, scope: Scope
) -> Protection | None:
    """The rules guarding one environment; None when nothing guards it (any branch, no
    reviewer, no wait, no custom rule)."""
    name = text(environment, "name")
    if name is None:
        return None
    rules = [r for r in environment.get("protection_rules") or [] if isinstance(r, Mapping)]
    reviewer_rule = next((r for r in rules if r.get("type") == "required_reviewers"), None)
    timer = next((r for r in rules if r.get("type") == "wait_timer"), {})
    settings: dict[str, Any] = {
        "required_reviewers": _reviewers(reviewer_rule),
        "prevent_self_review": _flag(reviewer_rule, "prevent_self_review"),
        "wait_timer": timer.get("wait_timer") if isinstance(timer.get("wait_timer"), int) else 0,
        "deployment_branches": _deployment_branches(environment.get("deployment_branch_policy")),
        "custom_rules": sorted(
            _custom_rule_name(r) for r in rules if r.get("type") not in _KNOWN_ENVIRONMENT_RULES
        ),
    }
    if settings["deployment_branches"] == "custom":
        settings["branch_policies"] = sorted(branch_policies or [])
    if isinstance(environment.get("can_admins_bypass"), bool):
        settings["can_admins_bypass"] = environment["can_admins_bypass"]
    if not _guards(settings):
        return None
    return Protection(f"environment:{name}", _with_environment(scope, name), settings)


def needs_branch_policies(environment: Mapping[str, Any]) -> bool:
    policy = environment.get("deployment_branch_policy")
    return isinstance(policy, Mapping) and policy.get("custom_branch_policies") is True


def branch_policy_names(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """``name`` patterns; a tag policy is told apart by its ``type``."""
    names = []
    for item in items:
        name = text(item, "name")
        if name:
            kind = text(item, "type")
            names.append(name if kind in (None, "branch") else f"{kind}:{name}")
    return sorted(names)


def _reviewers(rule: Mapping[str, Any] | None) -> list[str]:
    if rule is None:
        return []
    names = []
    for entry in rule.get("reviewers") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("reviewer"), Mapping):
            continue
        reviewer = entry["reviewer"]
        kind = str(entry.get("type") or "User").lower()
        name = text(reviewer, "login") or text(reviewer, "slug") or str(reviewer.get("id"))
        names.append(f"{kind}:{name}")
    return sorted(names)


def _flag(record: Mapping[str, Any] | None, key: str) -> bool | None:
    if record is None:
        return None
    value = record.get(key)
    return value if isinstance(value, bool) else None


def _deployment_branches(policy: Any) -> str:
    if not isinstance(policy, Mapping):
        return "all"
    if policy.get("protected_branches") is True:
        return "protected"
    if policy.get("custom_branch_policies") is True:
        return "custom"
    return "all"


def _custom_rule_name(rule: Mapping[str, Any]) -> str:
    app = rule.get("app")
    slug = text(app, "slug") if isinstance(app, Mapping) else None
    return slug or str(rule.get("type"))


def _guards(settings: Mapping[str, Any]) -> bool:
    return bool(
        settings["required_reviewers"]
        or settings["wait_timer"]
        or settings["deployment_branches"] != "all"
        or settings["custom_rules"]
    )


def _with_environment(scope: Scope, name: str) -> Scope:
    return Scope(owner=scope.owner, repository=scope.repository, environment=name)


def branch_protection(body: Mapping[str, Any], branch: str, scope: Scope) -> Protection:
    """Classic branch protection (GET …/branches/{branch}/protection)."""
    settings: dict[str, Any] = {}
    reviews = body.get("required_pull_request_reviews")
    settings["required_pull_request_reviews"] = isinstance(reviews, Mapping)
    if isinstance(reviews, Mapping):
        for key in _REVIEW_FLAGS:
            settings[key] = reviews.get(key)
    checks = body.get("required_status_checks")
    settings["required_status_checks"] = _status_contexts(checks)
    if isinstance(checks, Mapping) and isinstance(checks.get("strict"), bool):
        settings["strict_required_status_checks"] = checks["strict"]
    for key in _ENABLED_FLAGS:
        flag = body.get(key)
        if isinstance(flag, Mapping) and isinstance(flag.get("enabled"), bool):
            settings[key] = flag["enabled"]
    restrictions = body.get("restrictions")
    if isinstance(restrictions, Mapping):
        settings["push_allowances"] = _allowances(restrictions)
    return Protection(f"branch:{branch}", scope, settings)


def _status_contexts(checks: Any) -> list[str]:
    if not isinstance(checks, Mapping):
        return []
    names = {c for c in checks.get("contexts") or [] if isinstance(c, str)}
    names |= {
        c["context"]
        for c in checks.get("checks") or []
        if isinstance(c, Mapping) and isinstance(c.get("context"), str)
    }
    return sorted(names)


def _allowances(restrictions: Mapping[str, Any]) -> list[str]:
    who = []
    for kind, key in (("user", "users"), ("team", "teams"), ("app", "apps")):
        for entry in restrictions.get(key) or []:
            if isinstance(entry, Mapping):
                name = text(entry, "login") or text(entry, "slug") or str(entry.get("id"))
                who.append(f"{kind}:{name}")
    return sorted(who)


def ruleset_protections(
    rules: Iterable[Mapping[str, Any]], branch: str, scope: Scope
) -> list[Protection]:
    """The active rules for a branch (GET …/rules/branches/{branch}), one protection per
    ruleset they come from, so a ruleset that stops applying reads as removed."""
    grouped: dict[str, dict[str, Any]] = {}
    for rule in rules:
        kind = text(rule, "type")
        if kind is None:
            continue
        ident = str(rule.get("ruleset_id", "?"))
        settings = grouped.setdefault(ident, {"branch": branch, "source": _rule_source(rule)})
        _add_rule(settings, kind, rule.get("parameters"))
    return [
        Protection(f"ruleset:{ident}", scope, settings)
        for ident, settings in sorted(grouped.items())
    ]


def _rule_source(rule: Mapping[str, Any]) -> str:
    return f"{text(rule, 'ruleset_source_type') or '?'}:{text(rule, 'ruleset_source') or '?'}"


def _add_rule(settings: dict[str, Any], kind: str, parameters: Any) -> None:
    params = parameters if isinstance(parameters, Mapping) else {}
    if kind == "pull_request":
        settings["rule:pull_request"] = True
        for key in _RULESET_REVIEW_PARAMETERS:
            if key in params:
                settings[key] = params[key]
    elif kind == "required_status_checks":
        settings["rule:required_status_checks"] = True
        settings["required_status_checks"] = sorted(
            str(check.get("context"))
            for check in params.get("required_status_checks") or []
            if isinstance(check, Mapping)
        )
    else:
        settings[f"rule:{kind}"] = dict(params) if params else True
