"""GitHub's membership webhooks — ``member`` (repository collaborators), ``membership``
(team members) and ``organization`` (members, invitations) — as ``permission.change``
events, named like the audit-log and snapshot events so they reconcile with them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pipeledger.plugin import UNKNOWN_ACTOR, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger_github.audit.events import object_at, present, role_name
from pipeledger_github.normalize.fields import PLATFORM, actor, text


def webhook_event(
    name: str, payload: Mapping[str, Any], delivery: str, received_at: datetime, instance: str
) -> AuditEvent | None:
    """A ``member``, ``membership`` or ``organization`` member webhook as an event (others:
    None). Webhooks carry no event time: ``received_at`` stands in and is labelled so."""
    mapped = _webhook_change(name, payload)
    if mapped is None:
        return None
    verdict, scope, target, change = mapped
    endpoint = f"webhook:{name}"
    return AuditEvent(
        id=event_id(PLATFORM, instance, endpoint, delivery),
        kind=EventKind.PERMISSION_CHANGE,
        action=verdict,
        occurred_at=received_at,
        platform=PLATFORM,
        instance=instance,
        actor=actor(payload.get("sender")) or UNKNOWN_ACTOR,
        scope=scope,
        source=Source(endpoint=endpoint, native_id=delivery),
        target=present(target),
        change=change,
        attributes={
            "detected_by": "webhook",
            "webhook_action": text(payload, "action"),
            "occurred_at_source": "received_at",
        },
    )


_WebhookChange = tuple[str, Scope, dict[str, Any], dict[str, Any]]


def _webhook_change(name: str, payload: Mapping[str, Any]) -> _WebhookChange | None:
    action = text(payload, "action")
    if name == "member" and action in ("added", "removed", "edited"):
        return _member_change(action, payload)
    if name == "membership" and action in ("added", "removed"):
        return _membership_change(action, payload)
    if name == "organization" and action in ("member_added", "member_removed", "member_invited"):
        return _organization_change(action, payload)
    return None


def _member_change(action: str, payload: Mapping[str, Any]) -> _WebhookChange | None:
    repo = object_at(payload, "repository")
    full = text(repo, "full_name") or ""
    owner, _, name = full.partition("/")
    changes = object_at(payload, "changes")
    permission = object_at(changes, "permission")
    old = object_at(changes, "old_permission").get("from") or permission.get("from")
    new = None if action == "removed" else permission.get("to")
    verdict = {"added": "granted", "removed": "revoked", "edited": "changed"}[action]
    target = {"type": "user", "login": text(object_at(payload, "member"), "login")}
    change = {"from": role_name(old, False), "to": role_name(new, False)}
    return verdict, Scope(owner=owner, repository=name or None), target, change


def _membership_change(action: str, payload: Mapping[str, Any]) -> _WebhookChange | None:
    team = object_at(payload, "team")
    slug = text(team, "slug") or text(team, "name")
    owner = text(object_at(payload, "organization"), "login") or ""
    login = text(object_at(payload, "member"), "login")
    target = {"type": "user", "login": login, "via": f"team:{slug}"}
    verdict = "granted" if action == "added" else "revoked"
    return verdict, Scope(owner=owner), target, {"from": None, "to": None}


def _organization_change(action: str, payload: Mapping[str, Any]) -> _WebhookChange | None:
    owner = text(object_at(payload, "organization"), "login") or ""
    if action == "member_invited":
        invitation = object_at(payload, "invitation")
        login = text(object_at(payload, "user"), "login") or text(invitation, "login")
        role = role_name(invitation.get("role"), True)
        target = {"type": "user", "login": login}
        return "invited", Scope(owner=owner), target, {"from": None, "to": role}
    membership = object_at(payload, "membership")
    login = text(object_at(membership, "user"), "login")
    role = None if action == "member_removed" else role_name(membership.get("role"), True)
    verdict = "granted" if action == "member_added" else "revoked"
    return verdict, Scope(owner=owner), {"type": "user", "login": login}, {"from": None, "to": role}
