"""Findings renderers, one module per output format."""

from __future__ import annotations

from collections.abc import Callable

from pipeledger.report import github, gitlab, json_format, junit, sarif, text
from pipeledger.report.model import OutputFormat, Report

RENDERERS: dict[OutputFormat, Callable[[Report], str]] = {
    OutputFormat.TEXT: text.render,
    OutputFormat.JSON: json_format.render,
    OutputFormat.SARIF: sarif.render,
    OutputFormat.JUNIT: junit.render,
    OutputFormat.GITHUB: github.render,
    OutputFormat.GITLAB: gitlab.render,
}


def render(output_format: OutputFormat, report: Report) -> str:
    return RENDERERS[output_format](report)
