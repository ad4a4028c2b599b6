"""Findings renderers, one module per output format."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


# Formats written as they are made (a report of 100,000s of findings is never one string).
IN_PIECES: dict[ReportFormat, Callable[[Report], Iterator[str]]] = {
    ReportFormat.TEXT: text.render_chunks,
    ReportFormat.JSON: json_format.render_chunks,
    ReportFormat.SARIF: sarif.render_chunks,
    ReportFormat.GITLAB: gitlab.render_chunks,
}


def render_pieces(output_format: ReportFormat, report: Report) -> Iterator[str]:
    """The format in pieces that join to ``render``'s text; whole for the other formats."""
    in_pieces = IN_PIECES.get(output_format)
    return in_pieces(report) if in_pieces else iter([render(output_format, report)])
