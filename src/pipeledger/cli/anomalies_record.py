"""Recording alerts: each new one appended once as an ``anomaly`` event (the ledger keeps
ids unique, so an alert found again adds nothing)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from pipeledger.anomalies.engine import Detection, Selection, detect_in_ledger
from pipeledger.anomalies.record import alert_event
from pipeledger.anomalies.render import headline
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.policy.loader import load_policy
from pipeledger.sinks.fanout import SinkSet

# What ``collect --detect`` judges when the collection had no --since.
DEFAULT_DETECT_PERIOD = timedelta(days=7)


def record_alerts(sinks: SinkSet, detection: Detection, now: datetime) -> int:
    fresh = [alert_event(a, now) for a in detection.alerts if a.id not in detection.recorded]
    return len(sinks.append(fresh, {})) if fresh else 0


def detect_after_collect(args: argparse.Namespace, since: datetime | None, sinks: SinkSet) -> str:
    """``collect --detect``: judge the collected period (the last 7 days when it had no
    start), record the new alerts, and say what was found."""
    now = datetime.now(UTC)
    settings = settings_from(args.policy)
    selection = Selection(since=since or now - DEFAULT_DETECT_PERIOD)
    detection = detect_in_ledger(sinks.ledger, settings, selection)
    recorded = record_alerts(sinks, detection, now)
    return f"pipeledger: {headline(detection.alerts)}, {recorded} new recorded."


def settings_from(policy: str | None) -> AnomalySettings:
    if not policy:
        return AnomalySettings()
    return AnomalySettings.from_mapping(load_policy(str(policy)).anomalies)
