"""Maps ledger records to ECS 8.x documents: ``@timestamp``, the four
categorization fields, ``user``, ``service``, ``labels``, and the native record under
``pipeledger``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from pipeledger.events import AuditEvent, EventKind
from pipeledger.formats._vocabulary import Outcome, is_removal, outcome_of, summary
from pipeledger.sinks.contract import LedgerRecord

ECS_VERSION = "8.17.0"
ECS_OUTCOMES = {
    Outcome.SUCCESS: "success",
    Outcome.FAILURE: "failure",
    Outcome.OTHER: "unknown",
    Outcome.UNKNOWN: "unknown",
}


def to_ecs(record: LedgerRecord) -> dict[str, Any]:
    event = record.event
    native = event.to_dict()
    category, types = _categorization(event)
    document: dict[str, Any] = {
        "@timestamp": native["occurred_at"],
        "ecs": {"version": ECS_VERSION},
        "message": summary(event),
        "event": {
            "kind": "alert" if event.kind is EventKind.ANOMALY else "event",
            "category": [category],
            "type": types,
            "action": f"{event.kind.value}.{event.action}",
            "outcome": ECS_OUTCOMES[outcome_of(event)],
            "id": event.id,
            "sequence": record.seq,
            "provider": event.platform,
            "module": "pipeledger",
            "dataset": "pipeledger.audit",
            **({"created": native["observed_at"]} if "observed_at" in native else {}),
        },
        "service": {"name": event.instance, "type": event.platform},
        "labels": _labels(event),
        "related": {"user": _related_users(event)},
        "pipeledger": record.to_dict(),
    }
    user = _user(event.actor.login, event.actor.id)
    if user:
        document["user"] = user
    target = _target_user(event)
    if target:
        document.setdefault("user", {})["target"] = target
    return document


def _categorization(event: AuditEvent) -> tuple[str, list[str]]:
    """event.category and event.type, from the values ECS allows together."""
    match event.kind:
        case EventKind.PIPELINE_RUN:
            return "process", ["info"]
        case EventKind.DEPLOYMENT:
            return "configuration", ["deletion" if is_removal(event.action) else "change"]
        case EventKind.PROTECTION_CHANGE:
            return "configuration", ["change"]
        case EventKind.PERMISSION_CHANGE:
            grouped = str((event.target or {}).get("type", "")).lower() in ("team", "group")
            return "iam", ["change", "group" if grouped else "user"]
        case EventKind.DEPLOYMENT_APPROVAL | EventKind.CHANGE_REVIEW | EventKind.GATE_DECISION:
            verdict = outcome_of(event)
            allowed = {Outcome.SUCCESS: "allowed", Outcome.FAILURE: "denied"}
            return "api", [allowed.get(verdict, "info")]
        case EventKind.ANOMALY:
            return "intrusion_detection", ["info"]
        case _ as unreachable:
            assert_never(unreachable)


def _labels(event: AuditEvent) -> dict[str, str]:
    labels = {"kind": event.kind.value, "owner": event.scope.owner}
    if event.scope.full_name:
        labels["repository"] = event.scope.full_name
    if event.scope.environment:
        labels["environment"] = event.scope.environment
    if event.ref:
        labels["ref"] = event.ref
    return labels


def _user(name: Any, uid: Any) -> dict[str, str]:
    user: dict[str, str] = {}
    if name is not None:
        user["name"] = str(name)
    if uid is not None:
        user["id"] = str(uid)
    return user


def _target_user(event: AuditEvent) -> dict[str, str]:
    if event.kind is not EventKind.PERMISSION_CHANGE or not isinstance(event.target, Mapping):
        return {}
    target = event.target
    return _user(target.get("login") or target.get("name") or target.get("slug"), target.get("id"))


def _related_users(event: AuditEvent) -> list[str]:
    names = [event.actor.login, _target_user(event).get("name")]
    return sorted({name for name in names if name})
