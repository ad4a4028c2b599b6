"""GitHub Actions: workflow-command annotations (at most 10 of each level per step, as GitHub
keeps no more, plus a notice for the rest), a step summary table and step outputs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeledger.held_secrets import secret_pieces, single_line_pieces
from pipeledger.policy.model import Finding, Severity
from pipeledger.report._paths import repo_relative
from pipeledger.report.model import Report

MAX_PER_LEVEL = 10
MAX_TABLE_ROWS = 200
COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️"}


@dataclass(frozen=True)
class StepFiles:
    """What goes to the step summary file and the step outputs file."""

    summary: str
    outputs: dict[str, str]


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def mask_commands(secrets: Iterable[str]) -> str:
    """``::add-mask::`` lines; must be written before anything that could echo a secret.
    The runner masks log lines one at a time, so a multi-line secret (a PEM key) is masked
    by its lines of key material, each its own command; never the whole value, which would
    put the key's line breaks into a command."""
    pieces = sorted({p for secret in secrets for p in single_line_pieces(secret_pieces(secret))})
    return "".join(f"::add-mask::{escape_data(piece)}\n" for piece in pieces)


def render(report: Report) -> str:
    shown = _chosen(report.findings)
    lines = [_annotation(f, report) for f in shown]
    hidden = len(report.findings) - len(shown)
    if hidden:
        lines.append(
            f"::notice title=pipeledger::{hidden} more finding(s) are not shown as annotations"
            " (GitHub keeps 10 per level); see the job summary for all of them."
        )
    if report.error:
        lines.append(f"::error title=pipeledger {report.command}::{escape_data(report.error)}")
    lines.append(
        f"pipeledger {report.command}: {report.decision} ({len(report.findings)} findings)"
    )
    return "\n".join(lines) + "\n"


def _chosen(findings: list[Finding]) -> list[Finding]:
    chosen: list[Finding] = []
    for severity in Severity:
        chosen.extend([f for f in findings if f.severity is severity][:MAX_PER_LEVEL])
    if len(chosen) < len(findings):
        # The "more findings" notice takes one of the ten notice slots.
        notices = [f for f in chosen if f.severity is Severity.NOTICE]
        if len(notices) == MAX_PER_LEVEL:
            chosen.remove(notices[-1])
    return chosen


def _annotation(finding: Finding, report: Report) -> str:
    path = repo_relative(report.policy.path)
    props = [f"title={escape_property(f'pipeledger {finding.rule_id}')}"]
    if not path.startswith("/"):
        props += [f"file={escape_property(path)}", f"line={max(finding.rule_line, 1)}"]
    text = f"{finding.message} Fix: {finding.remedy}"
    return f"::{COMMANDS[finding.severity]} {','.join(props)}::{escape_data(text)}"


def step_files(report: Report) -> StepFiles:
    return StepFiles(
        summary=summary_markdown(report),
        outputs={"decision": report.decision, "violations": str(len(report.findings))},
    )


def summary_markdown(report: Report) -> str:
    icon = ICONS.get(report.decision, "")
    lines = [
        f"### pipeledger {report.command}: {icon} {report.decision}",
        "",
        f"Policy `{report.policy.path}` (sha256 `{report.policy.sha256[:12]}`),"
        f" fail on `{report.fail_on.value}`"
        + (f", environment `{report.environment}`" if report.environment else "")
        + ".",
        "",
    ]
    if report.error:
        lines += [f"> **Error:** {_cell(report.error)}", ""]
    lines += _findings_table(report.findings)
    lines += ["", "| Rule | Type | Evaluated | Violations |", "|---|---|---:|---:|"]
    for result in report.results:
        lines.append(
            f"| `{result.spec.id}` | {result.spec.type} | {result.evaluated}"
            f" | {len(result.findings)} |"
        )
    return "\n".join(lines) + "\n\n"


def _findings_table(findings: list[Finding]) -> list[str]:
    if not findings:
        return ["No findings."]
    rows = ["| Severity | Rule | Subject | Finding | Fix |", "|---|---|---|---|---|"]
    for f in findings[:MAX_TABLE_ROWS]:
        subject = (
            f"[{_cell(f.subject.describe())}]({f.subject.url})"
            if f.subject.url
            else _cell(f.subject.describe())
        )
        rows.append(
            f"| {f.severity.value} | `{f.rule_id}` | {subject} | {_cell(f.message)}"
            f" | {_cell(f.remedy)} |"
        )
    if len(findings) > MAX_TABLE_ROWS:
        rows.append(f"\n… and {len(findings) - MAX_TABLE_ROWS} more; use --format json.")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")
