"""Plain text for people at a terminal or reading a CI log."""

from __future__ import annotations

from pipeledger.report.model import Report


def render(report: Report) -> str:
    lines = [_headline(report)]
    if report.error:
        lines.append(f"  error: {report.error}")
    for finding in report.findings:
        lines.append("")
        lines.append(f"{finding.severity.value.upper()} [{finding.rule_id}] {finding.message}")
        lines.append(f"  subject: {finding.subject.describe()}")
        lines.append(f"  fix: {finding.remedy}")
        if finding.links:
            lines.append(f"  evidence: {' '.join(finding.links[:3])}")
        lines.append(f"  rule: {report.policy.path}:{finding.rule_line} ({finding.docs_url})")
    lines.extend(f"note: {note}" for note in report.notes)
    if report.findings or report.notes:
        # The verdict again after the findings, where the eye lands when the output ends.
        lines += ["", _headline(report)]
    return "\n".join(lines) + "\n"


def _headline(report: Report) -> str:
    evaluation = report.evaluation
    scope = ""
    if evaluation is not None:
        scope = f" over {evaluation.deployments} deployment(s) and {evaluation.events} event(s)"
    count = len(report.findings)
    return (
        f"pipeledger {report.command}: {report.decision.upper()} - {count} finding(s){scope},"
        f" policy {report.policy.path} ({len(report.policy.rules)} rules, fail on"
        f" {report.fail_on.value})"
    )
