"""What every command receives: streams, environment, the secret masker, shared options."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from pipeledger.cli.color import wants_color
from pipeledger.cli.options import Declared, add_option
from pipeledger.errors import UsageError
from pipeledger.printable import terminal_safe
from pipeledger.redact import SecretMasker
from pipeledger.sinks.defaults import DEFAULT_CHECKPOINT_EVERY, DEFAULT_LEDGER_URL

if TYPE_CHECKING:
    from rich.console import Console

    from pipeledger.sinks.fanout import SinkSet

# --sink: none given, the default ledger is opened (and the sinks given join it).
SINK = Declared(default=[], shown_default=DEFAULT_LEDGER_URL)


@dataclass
class Context:
    environ: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    masker: SecretMasker
    # Set from --no-color and -q/--quiet once the arguments are parsed.
    no_color: bool = False
    quiet: bool = False

    def safe_text(self, text: str) -> str:
        """``text`` as it may be printed: secrets masked, control characters visible."""
        return terminal_safe(self.masker.mask(text))

    def out(self, text: str = "") -> None:
        self.stdout.write(terminal_safe(self.masker.mask(text)) + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(terminal_safe(self.masker.mask(text)) + "\n")

    def note(self, text: str) -> None:
        """Progress and information on stderr, which ``--quiet`` silences (warnings and
        errors go through :meth:`err` and always show)."""
        if not self.quiet:
            self.err(text)

    def out_report(self, text: str) -> None:
        """Plain-text report output: written as is, or with its verdict words coloured on a
        colour terminal."""
        masked = terminal_safe(self.masker.mask(text))
        if not self.colors(self.stdout):
            self.stdout.write(masked)
            return
        from rich.text import Text

        from pipeledger.cli.console import VerdictHighlighter

        styled = Text(masked)
        VerdictHighlighter().highlight(styled)
        self.console().print(styled, end="")

    def colors(self, stream: TextIO) -> bool:
        """Colour on this stream: a terminal, and neither --no-color nor NO_COLOR."""
        return wants_color(stream, self.environ, no_color=self.no_color)

    def console(self, *, stderr: bool = False) -> Console:
        from pipeledger.cli.console import make_console

        stream = self.stderr if stderr else self.stdout
        return make_console(stream, self.environ, color=self.colors(stream))

    def open_sinks(self, args: argparse.Namespace, *, reading: bool = False) -> SinkSet:
        """The sinks named by --sink; checkpoints every --checkpoint-every events, signed
        when PIPELEDGER_SIGNING_KEY is set. ``reading``: the command reads the ledger, which
        must exist already (LedgerNotFound, exit 2, instead of an empty new one)."""
        from pipeledger.ledger.signing import signer_from_environ
        from pipeledger.sinks.contract import SinkSettings
        from pipeledger.sinks.fanout import SinkSet

        return SinkSet.open(
            args.sink,
            SinkSettings(environ=self.environ, create_ledger=not reading),
            signer=signer_from_environ(self.environ),
            checkpoint_every=checkpoint_every(args),
        )


def checkpoint_every(args: argparse.Namespace) -> int:
    value = getattr(args, "checkpoint_every", None)
    if value is None:
        return DEFAULT_CHECKPOINT_EVERY
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise UsageError(
            f"--checkpoint-every {value!r} is not a positive whole number of events.",
            f"Use e.g. {DEFAULT_CHECKPOINT_EVERY}; env PIPELEDGER_CHECKPOINT_EVERY.",
        )
    return number


def add_sink_option(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ledger and sinks")
    add_option(
        group,
        "--sink",
        default=SINK.default,
        shown_default=SINK.shown_default,
        action="append",
        metavar="URL",
        help="where events go; repeat to fan out",
    )
    add_option(
        group,
        "--checkpoint-every",
        default=DEFAULT_CHECKPOINT_EVERY,
        type=int,
        metavar="N",
        help="write a chain checkpoint to every sink each N events and at the end of a run,"
        " signed when PIPELEDGER_SIGNING_KEY is set",
    )
