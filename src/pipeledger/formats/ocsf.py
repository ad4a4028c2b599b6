"""Maps ledger records to OCSF 1.8 events (Open Cybersecurity Schema Framework).

Runs, deployments, approvals, reviews and protection changes become API Activity; permission
changes become User Access Management or Group Management; gate decisions become Compliance
Findings. Whatever has no OCSF attribute is kept under ``unmapped.pipeledger``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from pipeledger import __version__
from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, format_time
from pipeledger.formats._vocabulary import Outcome, is_removal, is_update, outcome_of, summary
from pipeledger.sinks.contract import LedgerRecord

OCSF_VERSION = "1.8.0"
PRODUCT = {"name": "pipeledger", "vendor_name": "pipeledger", "version": __version__}

SEVERITY_NAMES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High"}
STATUS_NAMES = {0: "Unknown", 1: "Success", 2: "Failure", 99: "Other"}
USER_TYPES: Mapping[ActorType, tuple[int, str]] = {
    ActorType.USER: (1, "User"),
    ActorType.BOT: (4, "Service"),
    ActorType.APP: (4, "Service"),
    ActorType.SERVICE: (4, "Service"),
    ActorType.UNKNOWN: (0, "Unknown"),
}
GROUP_TARGETS = frozenset({"team", "group"})


@dataclass(frozen=True)
class OcsfClass:
    uid: int
    name: str
    category_uid: int
    category_name: str


API_ACTIVITY = OcsfClass(6003, "API Activity", 6, "Application Activity")
USER_ACCESS = OcsfClass(3005, "User Access Management", 3, "Identity & Access Management")
GROUP_MANAGEMENT = OcsfClass(3006, "Group Management", 3, "Identity & Access Management")
COMPLIANCE_FINDING = OcsfClass(2003, "Compliance Finding", 2, "Findings")
DETECTION_FINDING = OcsfClass(2004, "Detection Finding", 2, "Findings")


@dataclass(frozen=True)
class Mapped:
    """What one class contributes: its activity, severity and its own attributes."""

    ocsf_class: OcsfClass
    activity_id: int
    activity_name: str
    severity_id: int
    attributes: dict[str, Any]


def to_ocsf(record: LedgerRecord) -> dict[str, Any]:
    event = record.event
    mapped = _map(event)
    cls = mapped.ocsf_class
    document: dict[str, Any] = {
        "class_uid": cls.uid,
        "class_name": cls.name,
        "category_uid": cls.category_uid,
        "category_name": cls.category_name,
        "activity_id": mapped.activity_id,
        "activity_name": mapped.activity_name,
        "type_uid": cls.uid * 100 + mapped.activity_id,
        "type_name": f"{cls.name}: {mapped.activity_name}",
        "time": epoch_ms(event.occurred_at),
        "severity_id": mapped.severity_id,
        "severity": SEVERITY_NAMES[mapped.severity_id],
        "message": summary(event),
        "metadata": _metadata(record),
        **mapped.attributes,
        "unmapped": {"pipeledger": _unmapped(record)},
    }
    return document


def _map(event: AuditEvent) -> Mapped:
    match event.kind:
        case EventKind.PERMISSION_CHANGE:
            return _permission_change(event)
        case EventKind.GATE_DECISION:
            return _compliance_finding(event)
        case EventKind.ANOMALY:
            return _detection_finding(event)
        case (
            EventKind.PIPELINE_RUN
            | EventKind.DEPLOYMENT
            | EventKind.DEPLOYMENT_APPROVAL
            | EventKind.CHANGE_REVIEW
            | EventKind.PROTECTION_CHANGE
        ):
            return _api_activity(event)
        case _ as unreachable:
            assert_never(unreachable)


def _api_activity(event: AuditEvent) -> Mapped:
    # Every recorded run, deployment, approval and review is a new thing on the platform:
    # Create, unless the action says it changed or removed something that existed.
    if is_removal(event.action):
        activity = (4, "Delete")
    elif is_update(event.action) or event.kind is EventKind.PROTECTION_CHANGE:
        activity = (3, "Update")
    else:
        activity = (1, "Create")
    status_id = _status_id(outcome_of(event))
    attributes = {
        "actor": _actor(event.actor, event.platform),
        "api": {
            "operation": f"{event.kind.value}.{event.action}",
            "service": {"name": event.platform},
            "request": {"uid": event.source.native_id},
        },
        "src_endpoint": _endpoint(event),
        "resources": _resources(event),
        "status_id": status_id,
        "status": STATUS_NAMES[status_id],
        **({"status_detail": event.outcome} if event.outcome else {}),
    }
    severity = 3 if event.kind is EventKind.PROTECTION_CHANGE else 1
    return Mapped(API_ACTIVITY, *activity, severity, attributes)


def _permission_change(event: AuditEvent) -> Mapped:
    target = dict(event.target or {})
    revoked = is_removal(event.action)
    common = {
        "actor": _actor(event.actor, event.platform),
        "src_endpoint": _endpoint(event),
        "status_id": 1,
        "status": STATUS_NAMES[1],
    }
    privileges = _privileges(event)
    if str(target.get("type", "")).lower() in GROUP_TARGETS:
        member = target.get("user") or target.get("member")
        group_attrs: dict[str, Any] = {**common, "group": _named(target, "group")}
        if isinstance(member, Mapping):
            group_attrs["user"] = _named(member, "user")
            activity = (4, "Remove User") if revoked else (3, "Add User")
        else:
            activity = (2, "Revoke Privileges") if revoked else (1, "Assign Privileges")
        if privileges:
            group_attrs["privileges"] = privileges
        return Mapped(GROUP_MANAGEMENT, *activity, 3, group_attrs)
    user_attrs = {**common, "user": _named(target, "user"), "resources": _resources(event)}
    if privileges:
        user_attrs["privileges"] = privileges
    activity = (2, "Revoke Privileges") if revoked else (1, "Assign Privileges")
    return Mapped(USER_ACCESS, *activity, 3, user_attrs)


def _compliance_finding(event: AuditEvent) -> Mapped:
    outcome = outcome_of(event)
    compliance_status = {Outcome.SUCCESS: (1, "Pass"), Outcome.FAILURE: (3, "Fail")}.get(
        outcome, (2, "Warning")
    )
    where = event.scope.environment or event.scope.repository or event.scope.owner
    attributes = {
        "finding_info": {
            "uid": event.id,
            "title": f"Deploy gate {event.outcome or event.action} for {where}",
            "desc": summary(event),
            "created_time": epoch_ms(event.occurred_at),
            "types": ["pipeledger gate decision"],
        },
        "compliance": {
            "standards": ["pipeledger policy"],
            "control": str(event.attributes.get("policy") or "deploy gate"),
            "status_id": compliance_status[0],
            "status": compliance_status[1],
        },
        "resources": _resources(event),
        "status_id": 1,
        "status": "New",
    }
    severity = 4 if outcome is Outcome.FAILURE else 1
    return Mapped(COMPLIANCE_FINDING, 1, "Create", severity, attributes)


# pipeledger's alert severities on OCSF's scale (2 Low, 3 Medium, 4 High).
_ALERT_SEVERITY_IDS = {"low": 2, "medium": 3, "high": 4}


def _detection_finding(event: AuditEvent) -> Mapped:
    """An anomaly alert (``raised``) or its acknowledgement (``acknowledged``: Update)."""
    attributes = event.attributes
    acknowledged = event.action == "acknowledged"
    finding = {
        "uid": str(attributes.get("alert_id") or event.id),
        "title": f"pipeledger anomaly: {attributes.get('detector') or 'alert'}",
        "desc": str(attributes.get("message") or summary(event)),
        "created_time": epoch_ms(event.occurred_at),
        "types": ["pipeledger anomaly"],
    }
    mapped = {
        "finding_info": finding,
        "resources": _resources(event),
        "status_id": 2 if acknowledged else 1,
        "status": "In Progress" if acknowledged else "New",
    }
    if acknowledged:
        return Mapped(DETECTION_FINDING, 2, "Update", 1, mapped)
    severity = _ALERT_SEVERITY_IDS.get(str(attributes.get("severity")), 3)
    return Mapped(DETECTION_FINDING, 1, "Create", severity, mapped)


def _metadata(record: LedgerRecord) -> dict[str, Any]:
    event = record.event
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "product": dict(PRODUCT),
        "uid": event.id,
        "log_name": event.kind.value,
        "log_provider": event.platform,
        "sequence": record.seq,
        "original_time": format_time(event.occurred_at),
    }
    correlation = event.correlation.get("run_id") or event.correlation.get("pipeline_id")
    if correlation:
        metadata["correlation_uid"] = str(correlation)
    if event.observed_at is not None:
        metadata["logged_time"] = epoch_ms(event.observed_at)
    return metadata


def _actor(actor: Actor, platform: str) -> dict[str, Any]:
    if actor.type is ActorType.UNKNOWN:
        # Seen only by comparing snapshots: OCSF needs some actor, and the platform is
        # the only thing known to have acted.
        return {"app_name": platform}
    type_id, type_name = USER_TYPES[actor.type]
    user: dict[str, Any] = {"type_id": type_id, "type": type_name}
    if actor.login:
        user["name"] = actor.login
    if actor.id:
        user["uid"] = actor.id
    return {"user": user}


def _named(thing: Mapping[str, Any], fallback: str) -> dict[str, Any]:
    """A user or group object from a target: OCSF needs a name or uid at least."""
    name = thing.get("login") or thing.get("name") or thing.get("slug") or thing.get("path")
    uid = thing.get("id")
    named: dict[str, Any] = {}
    if name is not None:
        named["name"] = str(name)
    if uid is not None:
        named["uid"] = str(uid)
    return named or {"name": f"unknown {fallback}"}


def _privileges(event: AuditEvent) -> list[str]:
    change = event.change or {}
    granted = change.get("from") if is_removal(event.action) else change.get("to")
    return [str(granted)] if granted not in (None, "") else []


def _endpoint(event: AuditEvent) -> dict[str, Any]:
    return {"hostname": event.instance, "svc_name": event.platform}


def _resources(event: AuditEvent) -> list[dict[str, Any]]:
    scope = event.scope
    resources = [{"type": "owner", "name": scope.owner}]
    if scope.full_name:
        resources.append({"type": "repository", "name": scope.full_name})
    if scope.environment:
        resources.append({"type": "environment", "name": scope.environment})
    return resources


def _status_id(outcome: Outcome) -> int:
    return {Outcome.SUCCESS: 1, Outcome.FAILURE: 2, Outcome.UNKNOWN: 0}.get(outcome, 99)


def _unmapped(record: LedgerRecord) -> dict[str, Any]:
    native = record.event.to_dict()
    kept = {key: native[key] for key in _UNMAPPED_KEYS if key in native}
    return {**kept, "seq": record.seq, "hash": record.hash, "prev_hash": record.prev_hash}


_UNMAPPED_KEYS = (
    "kind",
    "actor",
    "action",
    "platform",
    "scope",
    "source",
    "target",
    "change",
    "ref",
    "sha",
    "outcome",
    "correlation",
    "links",
    "attributes",
    # Which earlier events this one replaces (docs/evidence-model.md): a SIEM needs it to
    # show one fact per change.
    "supersedes",
)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
