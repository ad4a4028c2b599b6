"""GitHub's organization audit log (Enterprise Cloud) and membership webhooks as
``permission.change`` / ``protection.change`` events with their real actor and time.

Pure functions over the payloads. Events carry the same target and scope fields as the
snapshot diff events, so :func:`pipeledger.snapshots.same_change` can tell when both saw the
same change and keep only this one. Actions outside the list below are not permission or
protection changes and are skipped (counted, for one notice). The membership webhooks are
mapped alike in :mod:`pipeledger_github.webhooks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pipeledger.plugin import (
    UNKNOWN_ACTOR,
    Actor,
    ActorType,
    AuditEvent,
    EventKind,
    Scope,
    Source,
    event_id,
    parse_time,
)
from pipeledger_github.normalize.access import ROLE_ALIASES
from pipeledger_github.normalize.fields import PLATFORM, text

ENDPOINT = "/orgs/{org}/audit-log"

# action -> event action, for grants of access.
PERMISSION_ACTIONS = {
    "org.add_member": "granted",
    "org.remove_member": "revoked",
    "org.update_member": "changed",
    "team.add_member": "granted",
    "team.remove_member": "revoked",
    "team.add_repository": "granted",
    "team.remove_repository": "revoked",
    "team.update_repository_permission": "changed",
    "repo.add_member": "granted",
    "repo.remove_member": "revoked",
    "repo.update_member": "changed",
}
# (action or action prefix ending in "."/"_") -> event action, for what guards deploys.
PROTECTION_ACTIONS = {
    "environment.add_protection_rule": "added",
    "environment.update_protection_rule": "changed",
    "environment.remove_protection_rule": "removed",
    "protected_branch.create": "added",
    "protected_branch.destroy": "removed",
    "protected_branch.policy_override": "bypassed",
    "protected_branch.update_": "changed",
    "repository_ruleset.create": "added",
    "repository_ruleset.update": "changed",
    "repository_ruleset.destroy": "removed",
}
_STRENGTH = {"added": "stronger", "removed": "weaker", "changed": "unknown", "bypassed": "weaker"}
# Entry fields that describe the change itself (documented audit-log fields), kept as detail.
_DETAIL_FIELDS = (
    "admin_enforced",
    "allow_deletions_enforcement_level",
    "allow_force_pushes_enforcement_level",
    "linear_history_requirement_enforcement_level",
    "pull_request_reviews_enforcement_level",
    "required_status_checks_enforcement_level",
    "signature_requirement_enforcement_level",
    "required_approving_review_count",
    "require_code_owner_review",
    "require_last_push_approval",
    "dismiss_stale_reviews_on_push",
    "enforcement_level",
    "operation_type",
    "reason",
)
_ORG_ROLES = {"admin": "admin", "read": "member", "member": "member", "direct_member": "member"}


def audit_action(action: str) -> tuple[EventKind, str] | None:
    """The event kind and action an audit-log action maps to; None for other actions."""
    if action in PERMISSION_ACTIONS:
        return EventKind.PERMISSION_CHANGE, PERMISSION_ACTIONS[action]
    for name, verdict in PROTECTION_ACTIONS.items():
        if action == name or (name.endswith(("_", ".")) and action.startswith(name)):
            return EventKind.PROTECTION_CHANGE, verdict
    if action.endswith(".bypass") or ".bypass_" in action:
        return EventKind.PROTECTION_CHANGE, "bypassed"
    return None


def audit_event(entry: Mapping[str, Any], org: str, instance: str) -> AuditEvent | None:
    """One audit-log entry as an event; None when it is no permission or protection change
    or lacks its id or time."""
    action = text(entry, "action") or ""
    mapped = audit_action(action)
    document = text(entry, "_document_id")
    occurred = _entry_time(entry)
    if mapped is None or document is None or occurred is None:
        return None
    kind, verdict = mapped
    owner = text(entry, "org") or org
    scope, target = _where(action, entry, owner)
    endpoint = ENDPOINT
    attributes: dict[str, Any] = {"detected_by": "audit-log", "audit_action": action}
    attributes.update({key: entry[key] for key in _DETAIL_FIELDS if key in entry})
    if kind is EventKind.PROTECTION_CHANGE:
        attributes["strength"] = _STRENGTH[verdict]
    return AuditEvent(
        id=event_id(PLATFORM, instance, endpoint, document),
        kind=kind,
        action=verdict,
        occurred_at=occurred,
        platform=PLATFORM,
        instance=instance,
        actor=_entry_actor(entry),
        scope=scope,
        source=Source(endpoint=endpoint, native_id=document),
        target=target,
        change=_change(action, entry) if kind is EventKind.PERMISSION_CHANGE else None,
        attributes=attributes,
    )


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("@timestamp", "created_at"):
        value = entry.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value / 1000, UTC)  # epoch milliseconds
            except (OverflowError, OSError, ValueError):  # no such time: a hostile value
                continue
        if isinstance(value, str):
            try:
                return parse_time(value)
            except ValueError:
                continue
    return None


def _entry_actor(entry: Mapping[str, Any]) -> Actor:
    login = text(entry, "actor")
    if login is None:
        return UNKNOWN_ACTOR
    ident = entry.get("actor_id")
    kind = ActorType.BOT if login.endswith("[bot]") else ActorType.USER
    return Actor(login=login, id=str(ident) if isinstance(ident, int | str) else None, type=kind)


def _repository(entry: Mapping[str, Any]) -> str | None:
    full = text(entry, "repo") or text(entry, "repository")
    return full.rpartition("/")[2] if full else None


def _team_slug(entry: Mapping[str, Any]) -> str | None:
    team = text(entry, "team")  # "org/slug"
    return team.rpartition("/")[2] if team else None


def _where(action: str, entry: Mapping[str, Any], owner: str) -> tuple[Scope, dict[str, Any]]:
    """The scope and target, named as the snapshot diff names them."""
    category = action.partition(".")[0]
    if category == "team" and action.endswith("_member"):
        category = "team_member"
    where = _WHERE.get(category, _ruleset_where)
    scope, target = where(entry, owner)
    return scope, present(target)


Where = tuple[Scope, dict[str, Any]]


def _team_member_where(entry: Mapping[str, Any], owner: str) -> Where:
    target = {"type": "user", "login": text(entry, "user"), "via": f"team:{_team_slug(entry)}"}
    return Scope(owner=owner), target


def _team_where(entry: Mapping[str, Any], owner: str) -> Where:
    scope = Scope(owner=owner, repository=_repository(entry))
    return scope, {"type": "team", "login": _team_slug(entry)}


def _org_where(entry: Mapping[str, Any], owner: str) -> Where:
    return Scope(owner=owner), {"type": "user", "login": text(entry, "user")}


def _repo_where(entry: Mapping[str, Any], owner: str) -> Where:
    scope = Scope(owner=owner, repository=_repository(entry))
    return scope, {"type": "user", "login": text(entry, "user")}


def _environment_where(entry: Mapping[str, Any], owner: str) -> Where:
    name = text(entry, "environment_name") or text(entry, "name")
    scope = Scope(owner=owner, repository=_repository(entry), environment=name)
    return scope, {"type": "environment", "name": name}


def _branch_where(entry: Mapping[str, Any], owner: str) -> Where:
    name = text(entry, "name") or text(entry, "branch")
    return Scope(owner=owner, repository=_repository(entry)), {"type": "branch", "name": name}


def _ruleset_where(entry: Mapping[str, Any], owner: str) -> Where:
    ruleset = entry.get("ruleset_id")
    name = str(ruleset) if isinstance(ruleset, int | str) else None
    return Scope(owner=owner, repository=_repository(entry)), {"type": "ruleset", "name": name}


_WHERE = {
    "team_member": _team_member_where,
    "team": _team_where,
    "org": _org_where,
    "repo": _repo_where,
    "environment": _environment_where,
    "protected_branch": _branch_where,
}


def present(target: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` without its unknown (None) fields."""
    return {key: value for key, value in target.items() if value is not None}


def _change(action: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    org_level = action.startswith("org.")
    if action.startswith("repo."):
        old = entry.get("old_repo_permission") or entry.get("old_permission")
        new = entry.get("new_repo_permission") or entry.get("permission")
    else:
        old, new = entry.get("old_permission"), entry.get("permission")
    if action.endswith(("remove_member", "remove_repository")):
        new = None
    return {"from": role_name(old, org_level), "to": role_name(new, org_level)}


def role_name(value: Any, org_level: bool) -> str | None:
    """A role as the snapshots name it: ``read``/``write`` for ``pull``/``push``; ``admin``
    or ``member`` in an organization."""
    if not isinstance(value, str) or not value:
        return None
    if org_level:
        return _ORG_ROLES.get(value, value)
    return ROLE_ALIASES.get(value, value)


def object_at(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}
