"""Versioned JSON (``pipeledger/findings/v1``) for other tools."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeledger.events import format_time
from pipeledger.report._json_chunks import LIST_PLACE, dumps_in_chunks
from pipeledger.report.model import TOOL_VERSION, Report

SCHEMA_ID = "pipeledger/findings/v1"


def render(report: Report) -> str:
    return "".join(render_chunks(report))


def render_chunks(report: Report) -> Iterator[str]:
    """The document in pieces: the findings are rendered as they are read."""
    findings = (finding.to_dict() for finding in report.findings)
    return dumps_in_chunks(_frame(report), findings, sort_keys=True)


def _frame(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "pipeledger", "version": TOOL_VERSION},
        "command": report.command,
        "generated_at": format_time(report.generated_at),
        "decision": report.decision,
        "fail_on": report.fail_on.value,
        "policy": {"path": report.policy.path, "sha256": report.policy.sha256},
        "environment": report.environment,
        "period": {
            "since": format_time(report.since) if report.since else None,
            "until": format_time(report.until) if report.until else None,
        },
        "evaluated": {
            "deployments": report.evaluation.deployments if report.evaluation else 0,
            "events": report.evaluation.events if report.evaluation else 0,
        },
        "error": report.error,
        "rules": [result.to_dict() for result in report.results],
        "findings": LIST_PLACE,
        # What the command adds besides findings, e.g. audit's unacknowledged anomaly alerts.
        "notes": list(report.notes),
    }
