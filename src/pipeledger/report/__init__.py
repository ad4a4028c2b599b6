"""Findings renderers, one module per output format."""

from __future__ import annotations

from collections.abc import Callable

from pipeledger.report import github, gitlab, json_format, junit, sarif, text
from pipeledger.report.model import Report, ReportFormat

RENDERERS: dict[ReportFormat, Callable[[Report], str]] = {
    ReportFormat.TEXT: text.render,
    ReportFormat.JSON: json_format.render,
    ReportFormat.SARIF: sarif.render,
    ReportFormat.JUNIT: junit.render,
    ReportFormat.GITHUB: github.render,
    ReportFormat.GITLAB: gitlab.render,
}


def render(output_format: ReportFormat, report: Report) -> str:
    return RENDERERS[output_format](report)
