"""Every injected anomaly of the synthetic history is found by its own detector; no decoy
and (almost) no normal production deploy is flagged."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from pipeledger.anomalies.detectors import DETECTOR_NAMES
from pipeledger.anomalies.engine import Detection, Selection, detect_in_ledger
from pipeledger.anomalies.model import AlertSeverity, Anomaly
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.events import EventKind
from pipeledger.policy.loader import load_policy
from pipeledger_sqlite.sink import SqliteSink
from tests.conftest import ROOT
from tests.core.anomalies.synthetic import START, History


def run(path: Path, settings: AnomalySettings | None = None, **selection: object) -> Detection:
    ledger = SqliteSink(path)
    try:
        return detect_in_ledger(ledger, settings or AnomalySettings(), Selection(**selection))  # type: ignore[arg-type]
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def detection(ledger_file: Path, history: History) -> Detection:
    return run(ledger_file, since=history.judged_from)


def _about(alert: Anomaly, deployments: frozenset[str]) -> bool:
    return alert.subject.deployment_id in deployments


def test_every_detector_has_an_injected_case(history: History) -> None:
    assert {i.detector for i in history.injected} == set(DETECTOR_NAMES)


@pytest.mark.parametrize("index", range(9))
def test_each_injected_anomaly_is_found_by_its_detector(
    detection: Detection, history: History, index: int
) -> None:
    injected = history.injected[index]
    found = [a for a in detection.alerts if _about(a, injected.subjects)]
    assert [a.detector for a in found] == [injected.detector], injected.name


def test_no_decoy_alerts(detection: Detection, history: History) -> None:
    for name, deployment in history.decoys.items():
        flagged = [a.detector for a in detection.alerts if a.subject.deployment_id == deployment]
        assert flagged == [], name


def test_every_alert_is_about_an_injected_anomaly(detection: Detection, history: History) -> None:
    """Precision 100 % on this history: nothing regular is flagged."""
    injected = frozenset().union(*(i.subjects for i in history.injected))
    assert [a.message for a in detection.alerts if not _about(a, injected)] == []
    flagged = {a.subject.deployment_id for a in detection.alerts} & history.normal_production
    assert flagged == set()


def test_messages_explain_the_baseline(detection: Detection) -> None:
    by_detector = {a.detector: a for a in detection.alerts}
    assert by_detector["unusual-time"].message == (
        "carol deployed acme/shop to production at 21:10 UTC; the 76 production deploys of"
        " this repository in the last 90 days were all between 08:00 and 11:59 UTC."
    )
    first = [a for a in detection.alerts if a.detector == "first-deployer"]
    assert {(a.actors[0], a.severity) for a in first} == {
        ("bob", AlertSeverity.MEDIUM),
        ("mallory", AlertSeverity.HIGH),
    }
    escalation = [a for a in detection.alerts if a.detector == "privilege-escalation"]
    assert any("seen by comparing snapshots" in a.message for a in escalation)
    assert all(a.subject.deployment_id and a.subject.run_id for a in detection.alerts)


def test_alert_ids_are_stable_across_runs_and_windows(
    ledger_file: Path, history: History, detection: Detection
) -> None:
    later = run(ledger_file, since=history.judged_from.replace(day=history.judged_from.day + 7))
    again = {a.id: a.detector for a in detection.alerts}
    assert {a.id: a.detector for a in later.alerts}.items() <= again.items()
    assert later.alerts


def test_filters_by_repository_environment_and_severity(
    ledger_file: Path, history: History
) -> None:
    api = run(ledger_file, since=history.judged_from, repository="acme/api")
    assert {a.repository_name for a in api.alerts} == {"acme/api"}
    high = run(ledger_file, since=history.judged_from, min_severity=AlertSeverity.HIGH)
    assert high.alerts and {a.severity for a in high.alerts} == {AlertSeverity.HIGH}
    staging = run(ledger_file, since=history.judged_from, environment="staging")
    assert [a.detector for a in staging.alerts] == ["deploy-burst"]


def test_settings_disable_and_tune_detectors(ledger_file: Path, history: History) -> None:
    settings = AnomalySettings.from_mapping(
        {
            "detectors": {
                "deploy-burst": {"enabled": False},
                "unusual-time": {"severity": "high"},
                "first-deployer": {"allow": ["mal*"]},
                "dormant-account": {"dormant_days": 90},
            }
        }
    )
    found = run(ledger_file, settings, since=history.judged_from)
    detectors = [a.detector for a in found.alerts]
    assert "deploy-burst" not in detectors and "dormant-account" not in detectors
    assert [a.actors[0] for a in found.alerts if a.detector == "first-deployer"] == ["bob"]
    assert {a.severity for a in found.alerts if a.detector == "unusual-time"} == {
        AlertSeverity.HIGH
    }


def test_too_little_history_is_not_judged(ledger_file: Path, history: History) -> None:
    """Judging from the very first day: the baselines are empty, so the early deploys of
    the regular history raise nothing; only the injected ones do."""
    everything = run(ledger_file)
    injected = frozenset().union(*(i.subjects for i in history.injected))
    assert [a.message for a in everything.alerts if not _about(a, injected)] == []
    assert len(everything.alerts) == len(history.injected)


def test_the_baseline_policy_writes_out_the_defaults(ledger_file: Path, history: History) -> None:
    """examples/policies/baseline.yml spells out every detector's default: judging with it
    raises exactly what judging with no anomalies: section raises."""
    loaded = load_policy(str(ROOT / "examples" / "policies" / "baseline.yml"))
    written = run(
        ledger_file, AnomalySettings.from_mapping(loaded.anomalies), since=history.judged_from
    )
    defaults = run(ledger_file, since=history.judged_from)
    assert [(a.id, a.severity) for a in written.alerts] == [
        (a.id, a.severity) for a in defaults.alerts
    ]
    assert set(loaded.anomalies["detectors"]) == set(DETECTOR_NAMES)


@pytest.mark.parametrize(("source", "flagged"), [("webhook", True), ("run.created_at", False)])
def test_rubber_stamps_are_judged_only_on_real_approval_times(
    history: History, tmp_path: Path, source: str, flagged: bool
) -> None:
    """GitHub's REST backfill has no approval time and borrows the deployment's or run's
    (``occurred_at_source``): such approvals look instant and must not make a pair; a
    webhook's time is the approval's own."""
    events = [
        replace(e, attributes={**e.attributes, "occurred_at_source": source})
        if e.kind is EventKind.DEPLOYMENT_APPROVAL and e.actor.login == "oscar"
        else e
        for e in history.events
    ]
    path = tmp_path / "ledger.db"
    ledger = SqliteSink(path)
    ledger.append(events, {})
    ledger.close()
    found = run(path, since=history.judged_from)
    pairs = [a.actors for a in found.alerts if a.detector == "new-approver-pair"]
    assert pairs == ([("grace", "oscar")] if flagged else [])


def test_context_after_until_is_read_but_not_judged(ledger_file: Path, history: History) -> None:
    """--until between the toggled deploy (13:20) and the protection's restoration (13:45):
    the restoration is read as context, so the toggle is found; nothing after --until is
    judged."""
    until = START + timedelta(days=60, hours=13, minutes=30)
    found = run(ledger_file, since=history.judged_from, until=until)
    assert "protection-toggle" in {a.detector for a in found.alerts}
    assert all(a.occurred_at < until for a in found.alerts)
