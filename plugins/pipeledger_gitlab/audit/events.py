"""GitLab audit events (Premium/Ultimate) as ``permission.change`` and ``protection.change``;
events about anything else (archiving, renames) are not recorded."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pipeledger.plugin import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.plugin import parse_time as _parse_time
from pipeledger_gitlab.audit.subjects import member_subject, protection_subject
from pipeledger_gitlab.normalize.actors import actor_type

PROJECT_AUDIT_ENDPOINT = "/projects/:id/audit_events"
GROUP_AUDIT_ENDPOINT = "/groups/:id/audit_events"

# Checked first: "protected branch access level" is about protection, not membership.
_PROTECTION = re.compile(
    r"protect|approv|force.?push|code.?owner|push.?rule|merge.?check|deploy.?(key|token)",
    re.IGNORECASE,
)
# A group link shares a project (or group) with a whole group: an access granted or taken.
_PERMISSION = re.compile(r"access|member|role|permission|invit|owner|group.?link", re.IGNORECASE)
_VERBS = ("change", "add", "remove")
_ACTIONS = {
    EventKind.PERMISSION_CHANGE: {"add": "granted", "change": "changed", "remove": "revoked"},
    EventKind.PROTECTION_CHANGE: {"add": "added", "change": "changed", "remove": "removed"},
}

Json = Mapping[str, Any]


def classify(item: Json) -> EventKind | None:
    """Which kind an audit event is, from its event name, the subject of its details and
    what it targets (older GitLab names no event: "allowed to push" on a ProtectedBranch)."""
    target_type = _details(item).get("target_type")
    words = (item.get("event_name"), _subject(item)[1], target_type)
    text = " ".join(str(word) for word in words if word)
    if _PROTECTION.search(text):
        return EventKind.PROTECTION_CHANGE
    if _PERMISSION.search(text):
        return EventKind.PERMISSION_CHANGE
    return None


def author_id(item: Json) -> int | None:
    value = item.get("author_id")
    return value if isinstance(value, int) else None


def author_actor(item: Json, user: Json | None) -> Actor:
    """The author by username (``user`` is the user ``author_id`` names, when known); the
    display name the event shows goes to ``name``, never to ``login``. Negative author ids
    are GitLab's stand-ins (unauthenticated, deploy token, runner token): services without an
    account, named by what GitLab calls them. A user whose username cannot be read (deleted)
    is ``user-id:<id>``, so it is never mistaken for someone's username."""
    details = _details(item)
    shown = details.get("author_name")
    name = str(shown) if shown else None
    ident = author_id(item)
    if user is not None and user.get("username"):
        login = str(user["username"])
        display = str(user["name"]) if user.get("name") else name
        return Actor(
            login=login,
            id=str(user.get("id", ident)),
            type=actor_type(login, user),
            name=display,
        )
    if ident is not None and ident <= 0:
        return Actor(login=name or "unknown", id=str(ident), type=ActorType.SERVICE, name=name)
    if ident is None:
        return Actor(login=None, id=None, type=ActorType.UNKNOWN, name=name)
    return Actor(login=f"{UNRESOLVED_PREFIX}{ident}", id=str(ident), type=ActorType.USER, name=name)


# The login of an author whose username GitLab would not give (a deleted user).
UNRESOLVED_PREFIX = "user-id:"


def target_user_id(item: Json) -> int | None:
    """The user a membership event is about (``details.target_id`` of a ``User`` target)."""
    details = _details(item)
    value = details.get("target_id")
    if details.get("target_type") != "User" or not isinstance(value, int | str):
        return None
    return int(value) if str(value).isdigit() else None


def audit_event(
    instance: str,
    scope: Scope,
    endpoint: str,
    item: Json,
    actor: Actor,
    target_user: Json | None = None,
) -> AuditEvent | None:
    """``target_user`` is the user ``target_user_id`` names, when it could be fetched."""
    kind = classify(item)
    if kind is None:
        return None
    verb, subject = _subject(item)
    details = _details(item)
    native_id = str(item["id"])
    refined = (
        member_subject(item, target_user)
        if kind is EventKind.PERMISSION_CHANGE
        else protection_subject(item)
    )
    attributes = _attributes(item, details)
    if refined is not None and refined.strength is not None:
        attributes["strength"] = refined.strength
    return AuditEvent(
        id=event_id("gitlab", instance, endpoint, native_id),
        kind=kind,
        action=refined.action if refined else _action(kind, verb, item),
        occurred_at=_parse_time(str(item["created_at"])),
        platform="gitlab",
        instance=instance,
        actor=actor,
        scope=scope,
        source=Source(endpoint=endpoint, native_id=native_id),
        target=refined.target if refined else _target(details, subject),
        change=refined.change if refined else _change(verb, details),
        attributes=attributes,
    )


def _action(kind: EventKind, verb: str | None, item: Json) -> str:
    return _ACTIONS[kind].get(verb or "", str(item.get("event_name") or "changed"))


def _subject(item: Json) -> tuple[str | None, str | None]:
    details = _details(item)
    for verb in _VERBS:
        value = details.get(verb)
        if isinstance(value, str) and value:
            return verb, value
    message = details.get("custom_message")
    return None, message if isinstance(message, str) else None


def _target(details: Json, subject: str | None) -> dict[str, Any]:
    target = {
        "type": details.get("target_type"),
        "id": None if details.get("target_id") is None else str(details["target_id"]),
        "name": details.get("target_details"),
        "setting": subject,
    }
    return {key: value for key, value in target.items() if value is not None}


def _change(verb: str | None, details: Json) -> dict[str, Any] | None:
    if verb == "change":
        return {"from": details.get("from"), "to": details.get("to")}
    if verb == "add" and "as" in details:
        return {"from": None, "to": details.get("as")}
    if verb == "remove":
        return {"from": details.get("as"), "to": None}
    return None


def _attributes(item: Json, details: Json) -> dict[str, Any]:
    # ip_address and author_email are left out on purpose: the ledger is shared widely.
    values = {
        "audit_event_id": item.get("id"),
        "event_name": item.get("event_name"),
        "entity_type": item.get("entity_type"),
        "entity_path": details.get("entity_path"),
        "author_name": details.get("author_name"),
        "custom_message": details.get("custom_message"),
    }
    return {key: value for key, value in values.items() if value is not None}


def _details(item: Json) -> Json:
    details = item.get("details")
    return details if isinstance(details, Mapping) else {}
