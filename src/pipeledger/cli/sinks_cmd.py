"""``pipeledger sinks check``: open every configured sink, test its connectivity and
permissions, and say per sink what to fix; exit 3 if any fails."""

from __future__ import annotations

import argparse
from typing import Any

from pipeledger.cli.context import SINK_DEFAULTS, Context, add_sink_option
from pipeledger.errors import ExitCode, PipeledgerError
from pipeledger.fanout import DEFAULT_LEDGER_URL, delivery_key, open_sink
from pipeledger.redact import redact_url
from pipeledger.registry import load_sink
from pipeledger.signing import signer_from_environ
from pipeledger.sink import Ledger, Sink, SinkSettings

DEFAULTS: dict[str, Any] = {**SINK_DEFAULTS}


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "sinks", help="check that every configured sink is reachable and writable"
    )
    parser.add_argument("action", choices=("check",), help="check: test every sink")
    add_sink_option(parser)
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    settings = SinkSettings(environ=context.environ)
    urls = list(args.sink)
    opened: list[Sink] = []
    failed = False
    try:
        for url in urls:
            sink = _check_one(url, settings, context)
            failed = failed or sink is None
            opened.extend([sink] if sink is not None else [])
        if not any(_is_ledger_url(url) for url in urls):
            context.out(f"(no ledger among the sinks: the default {DEFAULT_LEDGER_URL} is used)")
            ledger = _check_one(DEFAULT_LEDGER_URL, settings, context)
            failed = failed or ledger is None
            opened.extend([ledger] if ledger is not None else [])
        _report_pending(opened, context)
        failed = _report_signing(context) or failed
    finally:
        for sink in opened:
            sink.close()
    return int(ExitCode.PLATFORM) if failed else int(ExitCode.OK)


def _check_one(url: str, settings: SinkSettings, context: Context) -> Sink | None:
    """The opened sink when it passes, else None after saying what to fix."""
    sink: Sink | None = None
    try:
        sink = open_sink(url, settings)
        sink.check()
    except PipeledgerError as error:
        context.out(f"FAIL  {sink.display_url if sink else redact_url(url)}: {error.describe()}")
        if sink is not None:
            sink.close()
        return None
    kind = "ledger" if isinstance(sink, Ledger) else "sink"
    context.out(f"OK    {sink.display_url} ({kind}): reachable, and the permissions suffice.")
    return sink


def _is_ledger_url(url: str) -> bool:
    """Asks the registry, so a ledger that failed to open still counts: the default ledger
    would not be used in its place."""
    try:
        return issubclass(load_sink(url), Ledger)
    except PipeledgerError:
        return False


def _report_pending(opened: list[Sink], context: Context) -> None:
    ledgers = [sink for sink in opened if isinstance(sink, Ledger)]
    if not ledgers:
        return
    ledger = ledgers[0]
    head = ledger.head_seq()
    for sink in opened:
        if sink is ledger:
            continue
        pending = head - int(ledger.checkpoint(delivery_key(sink)) or 0)
        if pending > 0:
            context.out(
                f"      {sink.display_url}: {pending} records wait in the ledger for it;"
                " pipeledger flush delivers them."
            )


def _report_signing(context: Context) -> bool:
    """True when the signing key is set but unusable."""
    try:
        signer = signer_from_environ(context.environ)
    except PipeledgerError as error:
        context.out(f"FAIL  PIPELEDGER_SIGNING_KEY: {error.describe()}")
        return True
    if signer is None:
        context.out(
            "note  checkpoints are unsigned: set PIPELEDGER_SIGNING_KEY (pipeledger keygen)"
            " to sign them."
        )
    else:
        context.out(f"OK    checkpoints are signed with key {signer.key_id}.")
    return False
