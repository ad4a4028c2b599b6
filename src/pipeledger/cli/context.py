"""What every command receives: streams, environment, the secret masker, shared options."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from pipeledger.fanout import SinkSet
from pipeledger.redact import SecretMasker
from pipeledger.sink import SinkSettings


@dataclass
class Context:
    environ: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    masker: SecretMasker

    def out(self, text: str = "") -> None:
        self.stdout.write(self.masker.mask(text) + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(self.masker.mask(text) + "\n")

    def open_sinks(self, args: argparse.Namespace) -> SinkSet:
        return SinkSet.open(args.sink, SinkSettings(environ=self.environ))


def add_sink_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sink",
        action="append",
        metavar="URL",
        help="where events go; repeat to fan out (default sqlite:///pipeledger.db);"
        " env PIPELEDGER_SINK (space-separated)",
    )
