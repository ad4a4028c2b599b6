"""Findings renderers, one module per output format, each imported when its format is
written (the gate imports none of them before its first request)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType

from pipeledger.report.model import Report, ReportFormat

MODULES: dict[ReportFormat, str] = {
    ReportFormat.TEXT: "text",
    ReportFormat.JSON: "json_format",
    ReportFormat.SARIF: "sarif",
    ReportFormat.JUNIT: "junit",
    ReportFormat.GITHUB: "github",
    ReportFormat.GITLAB: "gitlab",
}


def _module(output_format: ReportFormat) -> ModuleType:
    return importlib.import_module(f"pipeledger.report.{MODULES[output_format]}")


def renderer(output_format: ReportFormat) -> Callable[[Report], str]:
    function: Callable[[Report], str] = _module(output_format).render
    return function


def render(output_format: ReportFormat, report: Report) -> str:
    return renderer(output_format)(report)


def render_chunks(output_format: ReportFormat, report: Report) -> Iterator[str]:
    """The format in pieces that join to ``render``'s text: written as it is made where the
    format's module has ``render_chunks`` (a report of 100,000s of findings is never one
    string), whole otherwise."""
    in_pieces: Callable[[Report], Iterator[str]] | None = getattr(
        _module(output_format), "render_chunks", None
    )
    return in_pieces(report) if in_pieces else iter([render(output_format, report)])
