"""Access changes as the detectors see them: grants of power to one person (a powerful role,
or a place among an environment's required reviewers) and protection weakened or restored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeledger.anomalies._facts import AccessChange, Window
from pipeledger.events import AuditEvent, EventKind, parse_time
from pipeledger.policy.rules.permission_change import role_name
from pipeledger.policy.rules.protection_drift import weakened
from pipeledger.registry import load_access_terms

# Where an event names the change request, ticket or pull request that justified it.
LINK_ATTRIBUTES = ("linked_change", "change_request", "change_ticket", "ticket", "justification")
_REMOVALS = frozenset({"revoked", "removed", "deleted"})
_RESTORING = frozenset({"added", "created", "enabled", "strengthened"})
REVIEWER_ROLE = "environment reviewer"


def access_changes(event: AuditEvent) -> Iterator[AccessChange]:
    if event.kind is EventKind.PERMISSION_CHANGE:
        yield from _grants(event)
    elif event.kind is EventKind.PROTECTION_CHANGE:
        yield from _reviewer_grants(event)
        yield from _protection(event)


def _grants(event: AuditEvent) -> Iterator[AccessChange]:
    change = event.change or {}
    target = event.target or {}
    if event.action in _REMOVALS or str(target.get("type", "user")).lower() != "user":
        return
    granted, before = role_name(change.get("to")), role_name(change.get("from"))
    login = target.get("login")
    if granted is None or not isinstance(login, str):
        return
    terms = load_access_terms(event.platform)
    if terms.role_rank(granted) <= terms.role_rank(before):
        return
    yield _change(event, "grant", grantee=login, role=granted)


def _reviewer_grants(event: AuditEvent) -> Iterator[AccessChange]:
    change = event.change or {}
    setting = (event.target or {}).get("setting")
    terms = load_access_terms(event.platform)
    if setting not in terms.approver_settings:
        return
    before, after = _people(change.get("from")), _people(change.get("to"))
    by_id = terms.approvers_by_id
    for kind, people in (("grant", after - before), ("revoke", before - after)):
        for person in sorted(people):
            if by_id:
                yield _change(event, kind, grantee_id=person, role=REVIEWER_ROLE)
            else:
                yield _change(event, kind, grantee=person, role=REVIEWER_ROLE)


def _people(value: Any) -> set[str]:
    """Logins in a reviewer list: ``user:alice`` or ``alice``; teams and groups are not
    one person and are left out."""
    items = value if isinstance(value, list) else list(value) if isinstance(value, dict) else []
    people = set()
    for item in items:
        text = str(item)
        kind, sep, name = text.partition(":")
        if not sep:
            people.add(text)
        elif kind.lower() == "user":
            people.add(name)
    return people


def _protection(event: AuditEvent) -> Iterator[AccessChange]:
    if weakened(event):
        yield _change(event, "weaken")
    elif _restores(event):
        yield _change(event, "restore")


def _restores(event: AuditEvent) -> bool:
    if event.action in _RESTORING or event.attributes.get("strength") == "stronger":
        return True
    change = event.change or {}
    reverse = {"from": change.get("to"), "to": change.get("from")}
    mirrored = AuditEvent(**{**_fields(event), "change": reverse, "attributes": {}})
    return bool(change) and bool(weakened(mirrored))


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AuditEvent.__dataclass_fields__}


def _change(
    event: AuditEvent,
    kind: str,
    *,
    grantee: str | None = None,
    grantee_id: str | None = None,
    role: str | None = None,
) -> AccessChange:
    target = event.target or {}
    name = target.get("name") or target.get("branch") or event.scope.environment
    return AccessChange(
        kind=kind,
        window=window_of(event),
        platform=event.platform,
        instance=event.instance,
        owner=event.scope.owner,
        repository=event.scope.repository,
        environment=event.scope.environment,
        target_type=str(target["type"]) if target.get("type") else None,
        target_name=str(name) if name else None,
        setting=str(target["setting"]) if target.get("setting") else None,
        grantee=grantee,
        role=role,
        linked_change=linked_change(event),
        actor=event.actor.login,
        event_id=event.id,
        links=dict(event.links),
        description=_describe(event, kind),
        grantee_id=grantee_id,
    )


def window_of(event: AuditEvent) -> Window:
    """The audit-log time when there is one, the snapshot window otherwise."""
    start, end = event.attributes.get("window_start"), event.attributes.get("window_end")
    if isinstance(start, str) and isinstance(end, str):
        return Window(parse_time(start), parse_time(end))
    return Window(event.occurred_at, event.occurred_at)


def linked_change(event: AuditEvent) -> str | None:
    pull = event.correlation.get("pull_request")
    if pull:
        return f"pull request {pull}"
    for key in LINK_ATTRIBUTES:
        value = event.attributes.get(key)
        if isinstance(value, str | int) and str(value).strip():
            return str(value)
    return None


def _describe(event: AuditEvent, kind: str) -> str:
    target = event.target or {}
    what = target.get("type") or "protection"
    name = target.get("name") or target.get("branch") or event.scope.environment or "a target"
    setting = f" ({target['setting']})" if target.get("setting") else ""
    verb = {"weaken": "weakened", "restore": "restored"}.get(kind, "changed")
    return f"{what} protection of {name}{setting} {verb}"
