"""Recording alerts: each new one appended once as an ``anomaly`` event (the ledger keeps
ids unique, so an alert found again adds nothing)."""

from __future__ import annotations

from datetime import datetime

from pipeledger.anomalies.engine import Detection
from pipeledger.anomalies.record import alert_event
from pipeledger.fanout import SinkSet


def record_alerts(sinks: SinkSet, detection: Detection, now: datetime) -> int:
    recorded = detection.history.recorded if detection.history else set()
    fresh = [alert_event(a, now) for a in detection.alerts if a.id not in recorded]
    return len(sinks.append(fresh, {})) if fresh else 0
