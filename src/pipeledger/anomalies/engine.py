"""Runs every enabled detector over a history and returns the alerts that stand: each once,
within the asked repository, environment and severity, and not acknowledged."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from pipeledger.anomalies.detectors import DETECTORS, Judging
from pipeledger.anomalies.history import (
    History,
    anything_to_judge,
    read_alert_states,
    read_history,
)
from pipeledger.anomalies.model import AlertSeverity, Anomaly, at_least
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.policy.audit import collector_paused
from pipeledger.sinks.contract import Ledger


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
    # Alert ids already recorded as ``anomaly`` events (``--record`` adds only the others).
    recorded: set[str] = field(default_factory=set)
    # Events read in all (slices overlap: a look-back is read again) and the most held at
    # once, which the look-back window bounds.
    events_read: int = 0
    largest_slice: int = 0
    slices: int = 0


def detect(history: History, settings: AnomalySettings, selection: Selection) -> list[Anomaly]:
    """The alerts about what happened in the selection's period, from one history that
    holds that period and the look-back before it."""
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
    return list(found.values())


def detect_in_ledger(ledger: Ledger, settings: AnomalySettings, selection: Selection) -> Detection:
    """Judges the selection's period slice by slice: each slice reads its own look-back, so
    memory follows the look-back window whatever the period's or the ledger's length."""
    states = read_alert_states(ledger)
    detection = Detection(alerts=[], recorded=states.recorded)
    found: dict[str, Anomaly] = {}
    # Paused for the whole run: re-enabled between reading and judging, the collector would
    # scan every live fact once for nothing.
    with collector_paused():
        for since, until in _slices(ledger, settings, selection):
            part = replace(selection, since=since, until=until)
            alerts, read = _judge_slice(ledger, settings, part)
            for alert in alerts:
                found.setdefault(alert.id, alert)
            detection.events_read += read
            detection.largest_slice = max(detection.largest_slice, read)
            detection.slices += 1
    ordered = _ordered(found.values())
    acked = states.acknowledged
    detection.alerts = [a for a in ordered if a.id not in acked]
    detection.acknowledged = [a for a in ordered if a.id in acked]
    return detection


def _judge_slice(
    ledger: Ledger, settings: AnomalySettings, part: Selection
) -> tuple[list[Anomaly], int]:
    """One slice's alerts and how many events it read; its history is freed on return, so
    two slices' facts are never held at once."""
    assert part.since is not None
    history = read_history(ledger, part.since - settings.lookback, _read_end(part.until, settings))
    try:
        return detect(history, settings, part), history.events_read
    finally:
        # Reference counting frees the slice's facts on return, with the collector paused
        # and without a collection pass over a million live objects.
        history.release()


def slice_length(settings: AnomalySettings) -> timedelta:
    """One look-back (at least a day): a slice holds at most two look-backs of events."""
    return max(settings.lookback, timedelta(days=1))


def read_ahead(settings: AnomalySettings) -> timedelta:
    """How far past a slice's end its events are read: a protection restored after the
    slice's last deploy, an approval given after it. The judged period does not change."""
    toggle = settings.detector("protection-toggle").number("within_hours", 24)
    return max(timedelta(days=1), timedelta(hours=2 * toggle))


def _read_end(until: datetime | None, settings: AnomalySettings) -> datetime | None:
    return until + read_ahead(settings) if until is not None else None


def _slices(
    ledger: Ledger, settings: AnomalySettings, selection: Selection
) -> Iterator[tuple[datetime, datetime | None]]:
    """The judged period cut into consecutive slices of one look-back each, leaving out
    those with no deploy or approval to judge: from ``since`` forward when it is given,
    otherwise backward from ``until`` (or now) to the ledger's first deploy or approval."""
    length = slice_length(settings)
    if selection.since is not None:
        return _forward(ledger, selection.since, selection.until, length)
    return _backward(ledger, selection.until, length)


def _forward(
    ledger: Ledger, since: datetime, until: datetime | None, length: timedelta
) -> Iterator[tuple[datetime, datetime | None]]:
    horizon = until or _past_the_last(ledger, length)
    start, first = since, True
    while first or start < horizon:
        end = until if start + length >= horizon else start + length
        if first or anything_to_judge(ledger, start, end):
            yield start, end
        start, first = start + length, False


def _backward(
    ledger: Ledger, until: datetime | None, length: timedelta
) -> Iterator[tuple[datetime, datetime | None]]:
    end, start = until, (until or _past_the_last(ledger, length)) - length
    while True:
        if anything_to_judge(ledger, start, end):
            yield start, end
        elif not anything_to_judge(ledger, None, start):
            return
        end, start = start, start - length


def _past_the_last(ledger: Ledger, length: timedelta) -> datetime:
    """Now, or — when the ledger holds deploys or approvals dated later (a clock set wrong,
    a generated history) — a moment past the last of them, found one look-back at a time:
    so the newest slice, open-ended, still holds at most one look-back of them."""
    horizon = datetime.now(UTC)
    while anything_to_judge(ledger, horizon, None):
        horizon += length
    return horizon


def _ordered(alerts: Iterable[Anomaly]) -> list[Anomaly]:
    return sorted(alerts, key=lambda a: (a.occurred_at, a.detector, a.id))
