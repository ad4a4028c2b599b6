"""Recorded alerts, as other commands mention them: ``audit`` notes the unacknowledged
alerts about deployments in its period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeledger.anomalies.history import ACKNOWLEDGED, RAISED
from pipeledger.events import EventKind, parse_time
from pipeledger.json_codec import loads
from pipeledger.sinks.contract import EventFilter, Ledger

MAX_NOTES = 20


def alert_notes(ledger: Ledger, since: datetime | None, until: datetime | None) -> list[str]:
    """One line per recorded, unacknowledged alert about a deployment in the period."""
    raised: list[dict[str, Any]] = []
    acknowledged: set[str] = set()
    for _kind, body in ledger.event_bodies(EventFilter(kinds=(EventKind.ANOMALY,))):
        event = loads(body)
        alert_id = (event.get("attributes") or {}).get("alert_id")
        if event["action"] == ACKNOWLEDGED:
            acknowledged.add(str(alert_id))
        elif event["action"] == RAISED and _within(event["occurred_at"], since, until):
            raised.append(event)
    notes = [
        _note(event)
        for event in raised
        if event["attributes"]["alert_id"] not in acknowledged
        and (event.get("correlation") or {}).get("deployment_id")
    ]
    if len(notes) > MAX_NOTES:
        rest = len(notes) - MAX_NOTES
        notes = [*notes[:MAX_NOTES], f"and {rest} more anomaly alerts: `pipeledger anomalies`."]
    return notes


def _note(event: dict[str, Any]) -> str:
    attributes = event["attributes"]
    scope = event["scope"]
    repository = f"{scope['owner']}/{scope['repository']}" if scope.get("repository") else ""
    deployment = event["correlation"]["deployment_id"]
    return (
        f"anomaly alert ({attributes.get('severity')}, {attributes.get('detector')}) on"
        f" deployment {deployment} of {repository}: {attributes.get('message')}"
        f" [id {attributes.get('alert_id')}]"
    )


def _within(text: str, since: datetime | None, until: datetime | None) -> bool:
    moment = parse_time(text)
    return (since is None or moment >= since) and (until is None or moment < until)
