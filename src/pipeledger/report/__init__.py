"""Findings renderers, one module per output format, each imported when its format is
written (the gate imports none of them before its first request)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from pipeledger.report.model import Report, ReportFormat

MODULES: dict[ReportFormat, str] = {
    ReportFormat.TEXT: "text",
    ReportFormat.JSON: "json_format",
    ReportFormat.SARIF: "sarif",
    ReportFormat.JUNIT: "junit",
    ReportFormat.GITHUB: "github",
    ReportFormat.GITLAB: "gitlab",
}


def renderer(output_format: ReportFormat) -> Callable[[Report], str]:
    module = importlib.import_module(f"pipeledger.report.{MODULES[output_format]}")
    function: Callable[[Report], str] = module.render
    return function


def render(output_format: ReportFormat, report: Report) -> str:
    return renderer(output_format)(report)
