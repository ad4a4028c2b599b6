"""``pipeledger sinks check``: open every configured sink, test its connectivity and
permissions, and say per sink what to fix; exit 3 if any fails."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.errors import ExitCode, PipeledgerError
from pipeledger.ledger.signing import signer_from_environ
from pipeledger.redact import redact_url
from pipeledger.registry import load_sink
from pipeledger.sinks.contract import Ledger, Sink, SinkSettings
from pipeledger.sinks.defaults import DEFAULT_LEDGER_URL
from pipeledger.sinks.fanout import open_sink, url_delivery_key


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "sinks", help="check that every configured sink is reachable and writable"
    )
    parser.add_argument("action", choices=("check",), help="check: test every sink")
    add_sink_option(parser)
    return parser


@dataclass
class _Checked:
    url: str
    sink: Sink | None  # open when it passed


def run(args: argparse.Namespace, context: Context) -> int:
    settings = SinkSettings(environ=context.environ)
    urls = list(args.sink)
    if not any(_is_ledger_url(url) for url in urls):
        context.out(f"(no ledger among the sinks: the default {DEFAULT_LEDGER_URL} is used)")
        urls.insert(0, DEFAULT_LEDGER_URL)
    checked: list[_Checked] = []
    try:
        for url in urls:
            checked.append(_check_one(url, settings, context))
        _report_pending(checked, urls, context)
        signing_failed = _report_signing(context)
    finally:
        for each in checked:
            if each.sink is not None:
                each.sink.close()
    failed = signing_failed or any(each.sink is None for each in checked)
    return int(ExitCode.PLATFORM) if failed else int(ExitCode.OK)


def _check_one(url: str, settings: SinkSettings, context: Context) -> _Checked:
    """Open and check one sink; say OK, or what to fix."""
    sink: Sink | None = None
    try:
        sink = open_sink(url, settings)
        sink.check()
    except PipeledgerError as error:
        shown = sink.display_url if sink else redact_url(url)
        context.out(f"FAIL  {shown}: {error.describe()}")
        if sink is not None:
            sink.close()
        return _Checked(shown, None)
    kind = "ledger" if isinstance(sink, Ledger) else "sink"
    context.out(f"OK    {sink.display_url} ({kind}): reachable, and the permissions suffice.")
    return _Checked(sink.display_url, sink)


def _is_ledger_url(url: str) -> bool:
    """Asks the registry, so a ledger that failed to open still counts: the default ledger
    would not be used in its place."""
    try:
        return issubclass(load_sink(url), Ledger)
    except PipeledgerError:
        return False


def _report_pending(checked: list[_Checked], urls: list[str], context: Context) -> None:
    """How far behind each sink is, read from the ledger (the first ledger-capable URL)."""
    position = next(i for i, url in enumerate(urls) if _is_ledger_url(url))
    ledger = checked[position].sink
    if not isinstance(ledger, Ledger):
        return
    head = ledger.head_seq()
    for index, each in enumerate(checked):
        if index == position or (each.sink is not None and not each.sink.replays_history):
            continue
        pending = head - int(ledger.cursor(url_delivery_key(each.url)) or 0)
        if pending > 0:
            context.out(
                f"      {each.url}: {pending} records wait in the ledger for it;"
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
