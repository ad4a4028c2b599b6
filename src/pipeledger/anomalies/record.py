"""Alerts and acknowledgements as ledger events of kind ``anomaly``, so every sink (SIEM,
webhook, Slack) receives them. Ids are deterministic: an alert is recorded once however
often it is found again, and acknowledging it twice keeps the first acknowledgement."""

from __future__ import annotations

from datetime import datetime

from pipeledger.anomalies.history import ACKNOWLEDGED, RAISED
from pipeledger.anomalies.model import Anomaly
from pipeledger.events import (
    UNKNOWN_ACTOR,
    Actor,
    ActorType,
    AuditEvent,
    EventKind,
    Scope,
    Source,
    event_id,
)

ALERT_ENDPOINT = "pipeledger/anomalies"
ACK_ENDPOINT = "pipeledger/anomalies/acknowledgements"


def alert_event(alert: Anomaly, now: datetime) -> AuditEvent:
    """``occurred_at`` is when the anomalous thing happened; ``observed_at`` when it was
    found."""
    actor = Actor(login=alert.actors[0], id=None, type=ActorType.USER) if alert.actors else None
    subject = alert.subject
    correlation = {
        "deployment_id": subject.deployment_id,
        "run_id": subject.run_id,
        "pipeline_id": subject.pipeline_id,
    }
    return AuditEvent(
        id=event_id(alert.platform, alert.instance, ALERT_ENDPOINT, alert.id),
        kind=EventKind.ANOMALY,
        action=RAISED,
        occurred_at=alert.occurred_at,
        observed_at=now,
        platform=alert.platform,
        instance=alert.instance,
        actor=actor or UNKNOWN_ACTOR,
        scope=Scope(alert.owner, alert.repository, alert.environment),
        source=Source(endpoint=ALERT_ENDPOINT, native_id=alert.id),
        outcome=alert.severity.value,
        correlation={k: v for k, v in correlation.items() if v},
        links=dict(alert.links),
        attributes={
            "alert_id": alert.id,
            "detector": alert.detector,
            "severity": alert.severity.value,
            "score": round(alert.score, 3),
            "message": alert.message,
            "actors": list(alert.actors),
            "event_ids": list(subject.event_ids),
            "baseline": dict(alert.baseline),
        },
    )


def ack_event(alert: AuditEvent, by: str, reason: str, now: datetime) -> AuditEvent:
    """The acknowledgement of a recorded alert (``alert`` is its ``raised`` event)."""
    alert_id = str(alert.attributes["alert_id"])
    return AuditEvent(
        id=event_id(alert.platform, alert.instance, ACK_ENDPOINT, alert_id),
        kind=EventKind.ANOMALY,
        action=ACKNOWLEDGED,
        occurred_at=now,
        platform=alert.platform,
        instance=alert.instance,
        actor=Actor(login=by, id=None, type=ActorType.USER),
        scope=alert.scope,
        source=Source(endpoint=ACK_ENDPOINT, native_id=alert_id),
        correlation=dict(alert.correlation),
        attributes={
            "alert_id": alert_id,
            "detector": alert.attributes.get("detector"),
            "reason": reason,
        },
    )
