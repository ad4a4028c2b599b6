"""What every command receives: streams, environment, the secret masker, shared options."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from pipeledger.errors import UsageError
from pipeledger.fanout import DEFAULT_CHECKPOINT_EVERY, SinkSet
from pipeledger.printable import terminal_safe
from pipeledger.redact import SecretMasker
from pipeledger.signing import signer_from_environ
from pipeledger.sink import SinkSettings

# Commands that write through a SinkSet merge these into their DEFAULTS.
SINK_DEFAULTS: dict[str, object] = {"sink": [], "checkpoint_every": DEFAULT_CHECKPOINT_EVERY}


@dataclass
class Context:
    environ: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    masker: SecretMasker

    def out(self, text: str = "") -> None:
        self.stdout.write(terminal_safe(self.masker.mask(text)) + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(terminal_safe(self.masker.mask(text)) + "\n")

    def open_sinks(self, args: argparse.Namespace) -> SinkSet:
        """The sinks named by --sink; checkpoints every --checkpoint-every events, signed
        when PIPELEDGER_SIGNING_KEY is set."""
        return SinkSet.open(
            args.sink,
            SinkSettings(environ=self.environ),
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
    parser.add_argument(
        "--sink",
        action="append",
        metavar="URL",
        help="where events go; repeat to fan out (default sqlite:///pipeledger.db);"
        " env PIPELEDGER_SINK (space-separated)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        metavar="N",
        help=f"write a chain checkpoint to every sink each N events and at the end of a run"
        f" (default {DEFAULT_CHECKPOINT_EVERY}); signed when PIPELEDGER_SIGNING_KEY is set",
    )
