"""Runs every enabled detector over a history and returns the alerts that stand: each once,
within the asked repository, environment and severity, and not acknowledged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pipeledger.anomalies.detectors import DETECTORS, Judging
from pipeledger.anomalies.history import History, read_history
from pipeledger.anomalies.model import AlertSeverity, Anomaly, at_least
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.policy.audit import collector_paused
from pipeledger.sink import Ledger


@dataclass(frozen=True)
class Selection:
    """Which alerts to report: a period, a repository (OWNER/NAME), an environment, a floor."""

    since: datetime | None = None
    until: datetime | None = None
    repository: str | None = None
    environment: str | None = None
    min_severity: AlertSeverity = AlertSeverity.LOW

    def keeps(self, alert: Anomaly) -> bool:
        return (
            at_least(alert.severity, self.min_severity)
            and (self.repository is None or alert.repository_name == self.repository)
            and (self.environment is None or alert.environment == self.environment)
        )


@dataclass
class Detection:
    alerts: list[Anomaly]
    acknowledged: list[Anomaly] = field(default_factory=list)
    history: History | None = None


def detect(history: History, settings: AnomalySettings, selection: Selection) -> Detection:
    judging = Judging(since=selection.since, until=selection.until, settings=settings)
    found: dict[str, Anomaly] = {}
    # The detectors allocate a small tuple per deploy next to a million live facts: the
    # cycle collector would rescan those facts again and again, for nothing.
    with collector_paused():
        for detector_class in DETECTORS:
            detector = detector_class(judging)
            if not detector.settings.enabled:
                continue
            for alert in detector.detect(history):
                if alert.id not in found and selection.keeps(alert):
                    found[alert.id] = alert
    ordered = _ordered(found.values())
    acked = history.acknowledged
    return Detection(
        alerts=[a for a in ordered if a.id not in acked],
        acknowledged=[a for a in ordered if a.id in acked],
        history=history,
    )


def detect_in_ledger(ledger: Ledger, settings: AnomalySettings, selection: Selection) -> Detection:
    start = selection.since - settings.lookback if selection.since else None
    history = read_history(ledger, start, selection.until)
    return detect(history, settings, selection)


def _ordered(alerts: Iterable[Anomaly]) -> list[Anomaly]:
    return sorted(alerts, key=lambda a: (a.occurred_at, a.detector, a.id))
