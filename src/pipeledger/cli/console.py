"""The rich consoles that draw colour and live displays; whether a stream gets them is
decided once per run in ``pipeledger.cli.color`` (without importing rich).

Colour and symbols only on a terminal, never with ``--no-color``, ``NO_COLOR`` set to a
non-empty value (https://no-color.org) or ``TERM=dumb``. Text written to a file or a pipe is
plain, so logs, ``| grep`` and golden files see exactly the characters they expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from rich.console import Console
from rich.highlighter import RegexHighlighter
from rich.theme import Theme


class VerdictHighlighter(RegexHighlighter):
    """Colours the words that carry meaning in plain-text reports: the verdict, severities,
    rule ids, OK/FAIL marks and links. The text itself is unchanged."""

    base_style = "pl."
    highlights = [
        r"\b(?P<fail>FAIL|FAILED|ERROR|error)\b",
        r"\b(?P<pass>PASS|PASSED|OK)\b",
        r"\b(?P<warn>WARNING|warning|WARN)\b",
        r"\b(?P<notice>NOTICE|note)\b",
        r"(?P<rule>\[[a-z0-9][a-z0-9._-]*\])",
        r"(?P<url>https?://[^\s)]+)",
    ]


THEME = Theme(
    {
        "pl.fail": "bold red",
        "pl.pass": "bold green",
        "pl.warn": "bold yellow",
        "pl.notice": "cyan",
        "pl.rule": "magenta",
        "pl.url": "underline blue",
        "pl.dim": "dim",
        "pl.kind": "cyan",
        "pl.actor": "bold",
        "pl.header": "bold",
    }
)


def make_console(stream: TextIO, environ: Mapping[str, str], *, color: bool) -> Console:
    """A console on ``stream`` that styles only when ``color`` says so and never wraps or
    crops lines it did not lay out itself."""
    return Console(
        file=stream,
        force_terminal=color,
        color_system="auto" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=True,
        theme=THEME,
        _environ=dict(environ),
    )
