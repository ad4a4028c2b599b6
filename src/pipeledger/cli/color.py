"""Whether a stream gets colour: decided without rich, so a run that prints nothing in colour
does not import it (``pipeledger.cli.console`` re-exports these with the rich consoles)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def wants_color(stream: TextIO, environ: Mapping[str, str], *, no_color: bool = False) -> bool:
    if no_color or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)
