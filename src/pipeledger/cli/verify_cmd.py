"""``pipeledger verify``: recompute the ledger's hash chain and name the first bad record."""

from __future__ import annotations

import argparse
from typing import Any

from pipeledger.chain import verify_rows
from pipeledger.cli.context import Context, add_sink_option
from pipeledger.errors import ExitCode, VerificationFailed

DEFAULTS: dict[str, Any] = {"sink": []}


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "verify", help="check the ledger's hash chain; exit 4 if any record was altered"
    )
    add_sink_option(parser)
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    sinks = context.open_sinks(args)
    try:
        ledger = sinks.ledger
        report = verify_rows(ledger.rows())
    finally:
        sinks.close()
    if report.first_break is not None:
        bad = report.first_break
        raise VerificationFailed(
            f"The ledger {ledger.display_url} fails verification at record seq {bad.seq}"
            f" (event {bad.event_id}): {bad.reason}. {report.checked} records before it are"
            " intact.",
            "Treat everything from that record on as untrusted; restore the ledger from a"
            " sink copy or backup and rerun collect.",
        )
    context.out(
        f"pipeledger: {ledger.display_url}: {report.checked} records verified;"
        f" chain head {report.head_hash}."
    )
    return int(ExitCode.OK)
