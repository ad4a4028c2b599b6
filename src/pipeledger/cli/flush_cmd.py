"""``pipeledger flush``: deliver everything the ledger holds that a sink still lacks, and
checkpoint the head; report each sink; exit 3 if any still fails."""

from __future__ import annotations

import argparse
from typing import Any

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.errors import ExitCode


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "flush",
        help="deliver pending records and checkpoints to every sink; exit 3 if one still fails",
    )
    add_sink_option(parser)
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    sinks = context.open_sinks(args, reading=True)
    try:
        statuses = sinks.flush()
        head = sinks.ledger.head_seq()
        ledger = sinks.ledger.display_url
    finally:
        sinks.close()
    context.out(f"pipeledger: ledger {ledger}: {head} records.")
    if not statuses:
        context.out("pipeledger: no other sinks configured; nothing to deliver.")
    for status in statuses:
        if status.error is None:
            context.out(
                f"OK    {status.url}: holds every record through seq {status.delivered_seq}."
            )
        else:
            context.err(
                f"FAIL  {status.url}: {status.pending} records pending after seq"
                f" {status.delivered_seq}: {status.error.describe()}"
            )
    failed = any(status.error is not None for status in statuses) or bool(sinks.failures)
    return int(ExitCode.PLATFORM) if failed else int(ExitCode.OK)
