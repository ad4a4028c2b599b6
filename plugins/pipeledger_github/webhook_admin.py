"""GitHub webhooks about who can reach what and what guards it — ``team``, ``team_add``,
``repository`` (visibility), ``branch_protection_rule``, ``repository_ruleset`` and
``installation`` — as ``permission.change`` / ``protection.change`` events, with targets named
as the audit log and the snapshots name them. One delivery is one event, keyed on the
delivery id, so a redelivery adds nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pipeledger.plugin import UNKNOWN_ACTOR, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger_github.audit.events import object_at, present, role_name
from pipeledger_github.normalize.fields import PLATFORM, Oddities, actor, text

if TYPE_CHECKING:
    from pipeledger.plugin import Delivery

Json = Mapping[str, Any]
# (kind, action, scope, target, change) of one delivery
Mapped = tuple[EventKind, str, Scope, dict[str, Any], dict[str, Any] | None]
_STRENGTH = {"added": "stronger", "removed": "weaker", "changed": "unknown"}
_PROTECTION_VERDICTS = {"created": "added", "deleted": "removed", "edited": "changed"}
_INSTALLATION_VERDICTS = {
    "created": "granted",
    "deleted": "revoked",
    "suspend": "revoked",
    "unsuspend": "granted",
    "new_permissions_accepted": "changed",
}


def _owner_and_repo(payload: Json) -> tuple[str, str | None]:
    repository = object_at(payload, "repository")
    full = text(repository, "full_name") or ""
    owner, _, name = full.partition("/")
    if not owner:
        owner = text(object_at(payload, "organization"), "login") or ""
    return owner, name or None


def _team(payload: Json) -> Mapped | None:
    action = text(payload, "action")
    owner, repo = _owner_and_repo(payload)
    team = object_at(payload, "team")
    target = {"type": "team", "login": text(team, "slug") or text(team, "name")}
    permissions = object_at(object_at(payload, "repository"), "permissions")
    now = _repo_role(permissions)
    if action == "added_to_repository":
        change = {"from": None, "to": now or role_name(team.get("permission"), False)}
        return EventKind.PERMISSION_CHANGE, "granted", Scope(owner, repo), target, change
    if action == "removed_from_repository":
        return (
            EventKind.PERMISSION_CHANGE,
            "revoked",
            Scope(owner, repo),
            target,
            {"from": None, "to": None},
        )
    old = object_at(object_at(object_at(payload, "changes"), "repository"), "permissions")
    if action == "edited" and old and repo:
        before = _repo_role({**permissions, **object_at(old, "from")})
        change = {"from": before, "to": now}
        return EventKind.PERMISSION_CHANGE, "changed", Scope(owner, repo), target, change
    return None


def _team_add(payload: Json) -> Mapped | None:
    owner, repo = _owner_and_repo(payload)
    team = object_at(payload, "team")
    target = {"type": "team", "login": text(team, "slug") or text(team, "name")}
    change = {"from": None, "to": role_name(team.get("permission"), False)}
    return EventKind.PERMISSION_CHANGE, "granted", Scope(owner, repo), target, change


def _repository(payload: Json) -> Mapped | None:
    """Visibility changes: who can read the code. Other repository actions are not access
    changes (collaborators arrive as ``member`` deliveries)."""
    action = text(payload, "action")
    owner, repo = _owner_and_repo(payload)
    target: dict[str, Any] = {"type": "repository", "name": repo}
    change: dict[str, Any]
    if action in ("publicized", "privatized"):
        to = "public" if action == "publicized" else "private"
        change = {"from": "private" if to == "public" else "public", "to": to}
        return EventKind.PERMISSION_CHANGE, "changed", Scope(owner, repo), target, change
    visibility = object_at(object_at(payload, "changes"), "visibility")
    if action == "edited" and "from" in visibility:
        change = {
            "from": visibility.get("from"),
            "to": text(object_at(payload, "repository"), "visibility"),
        }
        return EventKind.PERMISSION_CHANGE, "changed", Scope(owner, repo), target, change
    return None


def _branch_protection_rule(payload: Json) -> Mapped | None:
    verdict = _PROTECTION_VERDICTS.get(text(payload, "action") or "")
    if verdict is None:
        return None
    owner, repo = _owner_and_repo(payload)
    target = {"type": "branch", "name": text(object_at(payload, "rule"), "name")}
    return EventKind.PROTECTION_CHANGE, verdict, Scope(owner, repo), target, None


def _repository_ruleset(payload: Json) -> Mapped | None:
    verdict = _PROTECTION_VERDICTS.get(text(payload, "action") or "")
    if verdict is None:
        return None
    owner, repo = _owner_and_repo(payload)
    ruleset = object_at(payload, "repository_ruleset")
    ident = ruleset.get("id")
    target = {
        "type": "ruleset",
        "name": str(ident) if isinstance(ident, int | str) else None,
        "title": text(ruleset, "name"),
        "enforcement": text(ruleset, "enforcement"),
    }
    return EventKind.PROTECTION_CHANGE, verdict, Scope(owner, repo), target, None


def _installation(payload: Json) -> Mapped | None:
    verdict = _INSTALLATION_VERDICTS.get(text(payload, "action") or "")
    if verdict is None:
        return None
    installation = object_at(payload, "installation")
    owner = text(object_at(installation, "account"), "login") or ""
    target = {
        "type": "app",
        "login": text(installation, "app_slug"),
        "installation_id": str(installation.get("id", "")) or None,
        "repository_selection": text(installation, "repository_selection"),
    }
    permissions = installation.get("permissions")
    change = {"from": None, "to": dict(permissions) if isinstance(permissions, Mapping) else None}
    return EventKind.PERMISSION_CHANGE, verdict, Scope(owner), target, change


def _repo_role(permissions: Mapping[str, Any]) -> str | None:
    for role in ("admin", "maintain", "push", "triage", "pull"):
        if permissions.get(role) is True:
            return role_name(role, False)
    return None


def _mapper(
    name: str, mapping: Callable[[Json], Mapped | None]
) -> Callable[[Delivery, str, Oddities], list[AuditEvent]]:
    def events(delivery: Delivery, instance: str, notes: Oddities) -> list[AuditEvent]:
        mapped = mapping(delivery.payload)
        if mapped is None:
            return []
        return [admin_event(name, mapped, delivery, instance)]

    return events


def admin_event(name: str, mapped: Mapped, delivery: Delivery, instance: str) -> AuditEvent:
    kind, verdict, scope, target, change = mapped
    endpoint = f"webhook:{name}"
    attributes: dict[str, Any] = {
        "detected_by": "webhook",
        "webhook_action": text(delivery.payload, "action"),
        "occurred_at_source": "received_at",
    }
    if kind is EventKind.PROTECTION_CHANGE:
        attributes["strength"] = _STRENGTH.get(verdict, "unknown")
    return AuditEvent(
        id=event_id(PLATFORM, instance, endpoint, delivery.delivery_id),
        kind=kind,
        action=verdict,
        occurred_at=delivery.received_at,
        platform=PLATFORM,
        instance=instance,
        actor=actor(delivery.payload.get("sender")) or UNKNOWN_ACTOR,
        scope=scope,
        source=Source(endpoint=endpoint, native_id=delivery.delivery_id),
        target=present(target),
        change=change,
        attributes=attributes,
    )


MAPPERS = {
    "team": _mapper("team", _team),
    "team_add": _mapper("team_add", _team_add),
    "repository": _mapper("repository", _repository),
    "branch_protection_rule": _mapper("branch_protection_rule", _branch_protection_rule),
    "repository_ruleset": _mapper("repository_ruleset", _repository_ruleset),
    "installation": _mapper("installation", _installation),
}
