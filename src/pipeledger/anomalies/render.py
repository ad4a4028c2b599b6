"""Alerts as text for a person, as ``{"anomalies": [...]}`` JSON (``schemas/anomalies.v1
.schema.json``), and as findings for the SARIF, GitHub and GitLab renderers."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from pipeledger.anomalies.detectors import DETECTORS
from pipeledger.anomalies.engine import Detection, Selection
from pipeledger.anomalies.model import SCHEMA_ID, AlertSeverity, Anomaly
from pipeledger.docs_links import detector_docs_url
from pipeledger.events import format_time
from pipeledger.policy.engine import Evaluation, RuleResult
from pipeledger.policy.model import FailOn, Finding, Policy, RuleSpec, Severity, Subject
from pipeledger.report.model import Report

SEVERITIES = {
    AlertSeverity.HIGH: Severity.ERROR,
    AlertSeverity.MEDIUM: Severity.WARNING,
    AlertSeverity.LOW: Severity.NOTICE,
}
REMEDY = (
    "Find out whether this was expected; if it was, acknowledge it with"
    " `pipeledger anomalies ack ID --reason ...` so it is not raised again."
)


def document(detection: Detection, selection: Selection, now: datetime) -> dict[str, Any]:
    return {
        "schema": SCHEMA_ID,
        "generated_at": format_time(now),
        "since": format_time(selection.since) if selection.since else None,
        "until": format_time(selection.until) if selection.until else None,
        "anomalies": [alert.to_dict() for alert in detection.alerts],
        "acknowledged": [alert.id for alert in detection.acknowledged],
    }


def render_json(detection: Detection, selection: Selection, now: datetime) -> str:
    return json.dumps(document(detection, selection, now), indent=2) + "\n"


def headline(alerts: list[Anomaly]) -> str:
    if not alerts:
        return "no anomaly alerts"
    tally = Counter(a.severity for a in alerts)
    parts = [f"{tally[s]} {s.value}" for s in reversed(AlertSeverity) if tally[s]]
    plural = "s" if len(alerts) != 1 else ""
    return f"{len(alerts)} anomaly alert{plural} ({', '.join(parts)})"


def render_text(detection: Detection) -> str:
    lines = [f"pipeledger anomalies: {headline(detection.alerts)}"]
    if detection.acknowledged:
        lines[0] += f"; {len(detection.acknowledged)} acknowledged, not shown"
    for alert in detection.alerts:
        place = alert.repository_name or alert.owner
        where = f"{place} {alert.environment}" if alert.environment else place
        lines.append("")
        lines.append(
            f"{alert.severity.value.upper():6} {alert.detector}  {where}"
            f"  {alert.occurred_at:%Y-%m-%d %H:%M} UTC  id {alert.id}"
        )
        lines.append(f"       {alert.message}")
        link = alert.links.get("deployment") or alert.links.get("run")
        if link:
            lines.append(f"       {link}")
    return "\n".join(lines) + "\n"


def as_report(detection: Detection, policy_path: str | None, now: datetime) -> Report:
    """The alerts as findings of one pseudo-rule per detector, for the findings formats."""
    specs = {
        d.name: RuleSpec(
            id=d.name,
            type="anomaly",
            severity=SEVERITIES[d.default_severity],
            line=1,
            description=d.summary,
            remedy=REMEDY,
            docs=detector_docs_url(d.name),
        )
        for d in DETECTORS
    }
    results = {name: RuleResult(spec=spec) for name, spec in specs.items()}
    for alert in detection.alerts:
        result = results[alert.detector]
        result.evaluated += 1
        result.findings.append(_finding(alert, result.spec))
    policy = Policy(path=policy_path or "pipeledger.yml", sha256="", rules=list(specs.values()))
    return Report(
        command="anomalies",
        policy=policy,
        decision="alerts" if detection.alerts else "pass",
        fail_on=FailOn.NEVER,
        evaluation=Evaluation(results=list(results.values())),
        generated_at=now,
    )


def _finding(alert: Anomaly, spec: RuleSpec) -> Finding:
    subject = Subject(
        kind="anomaly",
        key=alert.id,
        repository=alert.repository_name,
        environment=alert.environment,
        run_id=alert.subject.run_id or alert.subject.pipeline_id,
        url=alert.links.get("deployment") or alert.links.get("run"),
    )
    return Finding(
        rule_id=alert.detector,
        rule_type="anomaly",
        severity=SEVERITIES[alert.severity],
        message=alert.message,
        subject=subject,
        evidence=alert.subject.event_ids,
        links=tuple(alert.links.values()),
        remedy=REMEDY,
        docs_url=spec.docs_url,
        rule_line=1,
    )
