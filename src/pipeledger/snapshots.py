"""Snapshots of who can do what and what guards deploys, and the events their differences
imply — how permission and protection history is recorded on plans without an audit log.

A change seen only by comparing two snapshots has no known actor: its events say so
(``actor.type: unknown``) and carry the window in which it happened. The first snapshot of a
scope is a baseline and implies no events.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pipeledger.access_terms import AccessTerms
from pipeledger.events import (
    UNKNOWN_ACTOR,
    AuditEvent,
    EventKind,
    Scope,
    Source,
    event_id,
    format_time,
    parse_time,
)

SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class Grant:
    """One subject's access to one scope (an org, group, repository or project)."""

    subject_type: str  # user, team, group
    subject: str
    role: str
    scope: Scope
    via: str | None = None  # where inherited access comes from, e.g. "team:devs"

    @property
    def key(self) -> str:
        where = self.scope.repository or ""
        return f"{self.scope.owner}/{where}|{self.subject_type}:{self.subject}|{self.via or ''}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject_type": self.subject_type,
            "subject": self.subject,
            "role": self.role,
            "scope": self.scope.to_dict(),
            "via": self.via,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grant:
        return cls(
            subject_type=data["subject_type"],
            subject=data["subject"],
            role=data["role"],
            scope=Scope.from_dict(data["scope"]),
            via=data.get("via"),
        )


@dataclass(frozen=True)
class Protection:
    """The rules guarding one target: ``environment:production``, ``branch:main``, …

    ``settings`` holds JSON values; the strength rules below know the common ones.
    """

    target: str
    scope: Scope
    settings: Mapping[str, Any]

    @property
    def key(self) -> str:
        return f"{self.scope.owner}/{self.scope.repository or ''}|{self.target}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "scope": self.scope.to_dict(),
            "settings": dict(self.settings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Protection:
        return cls(
            target=data["target"], scope=Scope.from_dict(data["scope"]), settings=data["settings"]
        )


@dataclass(frozen=True)
class Snapshot:
    """Everything one collect saw for one scope, at one moment."""

    platform: str
    instance: str
    scope_key: str
    taken_at: datetime
    grants: Mapping[str, Grant] = field(default_factory=dict)
    protections: Mapping[str, Protection] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        platform: str,
        instance: str,
        scope_key: str,
        taken_at: datetime,
        grants: Iterable[Grant] = (),
        protections: Iterable[Protection] = (),
    ) -> Snapshot:
        return cls(
            platform=platform,
            instance=instance,
            scope_key=scope_key,
            taken_at=taken_at,
            grants={grant.key: grant for grant in grants},
            protections={protection.key: protection for protection in protections},
        )

    def same_state(self, other: Snapshot) -> bool:
        return self.grants == other.grants and self.protections == other.protections

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": SNAPSHOT_FORMAT,
                "platform": self.platform,
                "instance": self.instance,
                "scope_key": self.scope_key,
                "taken_at": format_time(self.taken_at),
                "grants": [g.to_dict() for g in self.grants.values()],
                "protections": [p.to_dict() for p in self.protections.values()],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text)
        return cls.build(
            platform=data["platform"],
            instance=data["instance"],
            scope_key=data["scope_key"],
            taken_at=parse_time(data["taken_at"]),
            grants=[Grant.from_dict(g) for g in data["grants"]],
            protections=[Protection.from_dict(p) for p in data["protections"]],
        )


def snapshot_key(platform: str, instance: str, scope_key: str) -> str:
    """Where a scope's latest snapshot is stored among the ledger's cursors."""
    return f"snapshot:{platform}:{instance}:{scope_key}"


HISTORY_PREFIX = "snapshot-history"


def snapshot_history_key(platform: str, instance: str, scope_key: str, taken_at: datetime) -> str:
    """One key per recorded state; keys of a scope sort by time."""
    return f"{_history_prefix(platform, instance, scope_key)}{_sortable_time(taken_at)}"


def _history_prefix(platform: str, instance: str, scope_key: str) -> str:
    return f"{HISTORY_PREFIX}:{platform}:{instance}:{scope_key}:"


def _sortable_time(moment: datetime) -> str:
    # Fixed width, so text order is time order (format_time drops zero sub-seconds).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def snapshot_state(previous: Snapshot | None, current: Snapshot) -> dict[str, str]:
    """What to store with a snapshot's events: the latest state, always (its ``taken_at``
    opens the next diff's window), and a history entry when the state changed or is the
    baseline, so the rules in force at a past moment can be found (:func:`snapshot_at`)."""
    text = current.to_json()
    values = {snapshot_key(current.platform, current.instance, current.scope_key): text}
    if previous is None or not current.same_state(previous):
        key = snapshot_history_key(
            current.platform, current.instance, current.scope_key, current.taken_at
        )
        values[key] = text
    return values


class CursorLister(Protocol):
    """Lists stored cursors by key prefix; snapshot history is kept under such keys."""

    def cursors_with_prefix(self, prefix: str) -> list[tuple[str, str]]: ...


def history_scope_keys(ledger: CursorLister, platform: str, instance: str) -> set[str]:
    """Every scope with recorded snapshot history on one instance."""
    prefix = f"{HISTORY_PREFIX}:{platform}:{instance}:"
    return {key[len(prefix) :].rsplit(":", 3)[0] for key, _ in ledger.cursors_with_prefix(prefix)}


def snapshot_at(
    ledger: CursorLister, platform: str, instance: str, scope_key: str, moment: datetime
) -> Snapshot | None:
    """The state last observed at or before ``moment`` (None before the first snapshot).

    A state holds from its ``taken_at`` until the next recorded state; the change between
    them happened somewhere in the window of the events that record it.
    """
    prefix = _history_prefix(platform, instance, scope_key)
    bound = _sortable_time(moment)
    chosen: str | None = None
    for key, value in sorted(ledger.cursors_with_prefix(prefix)):
        if key[len(prefix) :] <= bound:
            chosen = value
    return Snapshot.from_json(chosen) if chosen is not None else None


def diff_snapshots(
    previous: Snapshot | None, current: Snapshot, terms: AccessTerms | None = None
) -> list[AuditEvent]:
    """Events for every difference; none for a first (baseline) snapshot. ``terms``: what
    the platform's roles and settings mean (an adapter passes its own; by default those its
    plugin registers for ``current.platform``)."""
    if previous is None:
        return []
    if terms is None:
        from pipeledger.registry import load_access_terms

        terms = load_access_terms(current.platform)
    return [
        *_grant_events(previous, current, terms),
        *_protection_events(previous, current, terms),
    ]


def _grant_events(
    previous: Snapshot, current: Snapshot, terms: AccessTerms
) -> Iterator[AuditEvent]:
    for key in sorted(set(previous.grants) | set(current.grants)):
        before, after = previous.grants.get(key), current.grants.get(key)
        if before == after:
            continue
        grant = after or before
        assert grant is not None
        old_role = before.role if before else None
        new_role = after.role if after else None
        action = "granted" if before is None else "revoked" if after is None else "changed"
        yield _snapshot_event(
            previous,
            current,
            kind=EventKind.PERMISSION_CHANGE,
            action=action,
            scope=grant.scope,
            native=f"grant|{key}|{old_role}->{new_role}",
            target={"type": grant.subject_type, "login": grant.subject, "via": grant.via},
            change={"from": old_role, "to": new_role},
            extra={"escalation": terms.role_rank(new_role) > terms.role_rank(old_role)},
        )


def _protection_events(
    previous: Snapshot, current: Snapshot, terms: AccessTerms
) -> Iterator[AuditEvent]:
    for key in sorted(set(previous.protections) | set(current.protections)):
        before, after = previous.protections.get(key), current.protections.get(key)
        if before == after:
            continue
        rule = after or before
        assert rule is not None
        old = dict(before.settings) if before else {}
        new = dict(after.settings) if after else {}
        if before is None or after is None:
            action = "added" if before is None else "removed"
            yield _protection_event(
                previous, current, rule, key, action, None, old or None, new or None
            )
            continue
        for setting in sorted(set(old) | set(new)):
            if old.get(setting) != new.get(setting):
                verdict = terms.setting_change(setting, old.get(setting), new.get(setting))
                yield _protection_event(
                    previous,
                    current,
                    rule,
                    key,
                    verdict,
                    setting,
                    old.get(setting),
                    new.get(setting),
                )


_STRENGTH = {
    "added": "stronger",
    "strengthened": "stronger",
    "removed": "weaker",
    "weakened": "weaker",
    "changed": "unknown",
}


def _protection_event(
    previous: Snapshot,
    current: Snapshot,
    rule: Protection,
    key: str,
    action: str,
    setting: str | None,
    old: Any,
    new: Any,
) -> AuditEvent:
    kind_of_target, _, name = rule.target.partition(":")
    change_text = f"{json.dumps(old, sort_keys=True)}->{json.dumps(new, sort_keys=True)}"
    return _snapshot_event(
        previous,
        current,
        kind=EventKind.PROTECTION_CHANGE,
        action=action,
        scope=rule.scope,
        native=f"protection|{key}|{setting}|{change_text}",
        target={"type": kind_of_target, "name": name, "setting": setting},
        change={"from": old, "to": new},
        extra={"strength": _STRENGTH[action]},
    )


def _snapshot_event(
    previous: Snapshot,
    current: Snapshot,
    *,
    kind: EventKind,
    action: str,
    scope: Scope,
    native: str,
    target: Mapping[str, Any],
    change: Mapping[str, Any],
    extra: Mapping[str, Any],
) -> AuditEvent:
    endpoint = f"snapshot:{current.scope_key}"
    native_id = f"{native}@{format_time(current.taken_at)}"
    return AuditEvent(
        id=event_id(current.platform, current.instance, endpoint, native_id),
        kind=kind,
        action=action,
        occurred_at=current.taken_at,
        observed_at=current.taken_at,
        platform=current.platform,
        instance=current.instance,
        actor=UNKNOWN_ACTOR,
        scope=scope,
        source=Source(endpoint=endpoint, native_id=native_id),
        target={k: v for k, v in target.items() if v is not None},
        change=dict(change),
        attributes={
            "detected_by": "snapshot-diff",
            "window_start": format_time(previous.taken_at),
            "window_end": format_time(current.taken_at),
            **extra,
        },
    )


def same_change(diff: AuditEvent, known: AuditEvent) -> bool:
    """Whether ``known`` (an audit-log or webhook event) records the change the snapshot
    difference ``diff`` found: same kind, scope and target, an agreeing new value, and a time
    inside the diff's window. A group's event covers the subgroups and projects below it."""
    if diff.kind is not known.kind or not _covers(known.scope, diff.scope):
        return False
    if not _same_target(diff.target or {}, known.target or {}):
        return False
    new_value = (known.change or {}).get("to")
    seen_value = (diff.change or {}).get("to")
    # An audit log's text for a structured setting (a list of access levels) is not compared.
    text_for_structure = isinstance(new_value, str) and isinstance(seen_value, list | dict)
    if new_value is not None and not text_for_structure and new_value != seen_value:
        return False
    start = parse_time(str(diff.attributes["window_start"]))
    return start <= known.occurred_at <= diff.occurred_at


def _covers(known: Scope, diff: Scope) -> bool:
    if known.repository is not None:
        return (known.owner, known.repository) == (diff.owner, diff.repository)
    return diff.owner == known.owner or diff.owner.startswith(known.owner + "/")


def _same_target(diff: Mapping[str, Any], known: Mapping[str, Any]) -> bool:
    for field_name in ("login", "name", "setting"):
        if field_name in known and known[field_name] != diff.get(field_name):
            return False
    # Compared both ways: a team membership is not the same person's direct access.
    if known.get("via") != diff.get("via"):
        return False
    return any(field_name in known for field_name in ("login", "name"))
