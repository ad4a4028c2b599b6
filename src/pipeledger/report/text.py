"""Plain text for people at a terminal or reading a CI log."""

from __future__ import annotations

from collections.abc import Iterator

from pipeledger.report.model import Report


def render(report: Report) -> str:
    return "".join(render_chunks(report))


def render_chunks(report: Report, per_chunk: int = 500) -> Iterator[str]:
    """The report in pieces of whole lines (``per_chunk`` findings each): a report of
    100,000s of findings is written as it is made instead of held whole."""
    headline = _headline(report)
    lines = [headline]
    if report.error:
        lines.append(f"  error: {report.error}")
    for number, finding in enumerate(report.findings, start=1):
        lines.append("")
        lines.append(f"{finding.severity.value.upper()} [{finding.rule_id}] {finding.message}")
        lines.append(f"  subject: {finding.subject.describe()}")
        lines.append(f"  fix: {finding.remedy}")
        if finding.links:
            lines.append(f"  evidence: {' '.join(finding.links[:3])}")
        lines.append(f"  rule: {report.policy.path}:{finding.rule_line} ({finding.docs_url})")
        if number % per_chunk == 0:
            yield "\n".join(lines) + "\n"
            lines = []
    lines.extend(f"note: {note}" for note in report.notes)
    if report.findings or report.notes:
        # The verdict again after the findings, where the eye lands when the output ends.
        lines += ["", headline]
    yield "\n".join(lines) + "\n" if lines else ""


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
