"""``pipeledger verify``: recompute the ledger's hash chain, check its checkpoints (their
signatures with ``--public-key``, copies elsewhere with ``--against``) and name the first bad
record or checkpoint."""

from __future__ import annotations

import argparse
from typing import Any

from pipeledger.cli.context import SINK_DEFAULTS, Context, add_sink_option
from pipeledger.errors import ExitCode, PipeledgerError, UsageError, VerificationFailed
from pipeledger.fanout import open_sink
from pipeledger.signing import load_public_key
from pipeledger.sink import Ledger, SinkSettings
from pipeledger.verification import CopyCheckpoints, Verdict, verify_ledger

DEFAULTS: dict[str, Any] = {**SINK_DEFAULTS, "public_key": [], "against": []}


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "verify",
        help="check the ledger's hash chain and checkpoints; exit 4 if anything was altered",
    )
    add_sink_option(parser)
    parser.add_argument(
        "--public-key",
        action="append",
        metavar="FILE",
        help="Ed25519 public key (PEM, from pipeledger keygen): checkpoint signatures must"
        " verify and cover the head; repeat for rotated keys",
    )
    parser.add_argument(
        "--against",
        action="append",
        metavar="URL",
        help="another copy (a jsonl file or another ledger) whose checkpoints of this chain"
        " must agree with it; repeatable",
    )
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    keys = [load_public_key(path) for path in args.public_key]
    settings = SinkSettings(environ=context.environ, create_ledger=False)
    copies = [_copy_checkpoints(url, settings) for url in args.against]
    sinks = context.open_sinks(args, reading=True)
    try:
        ledger = sinks.ledger
        verdict = verify_ledger(ledger, keys, copies)
    finally:
        sinks.close()
    if verdict.problem is not None:
        _fail(ledger, verdict)
    _report(context, ledger, verdict, checked_signatures=bool(keys))
    return int(ExitCode.OK)


def _copy_checkpoints(url: str, settings: SinkSettings) -> CopyCheckpoints:
    sink = open_sink(url, settings)
    try:
        return CopyCheckpoints(sink.display_url, list(sink.stored_checkpoints()))
    except NotImplementedError:
        raise UsageError(
            f"The sink {sink.display_url} cannot be read back for --against.",
            "Compare against a jsonl copy or another SQLite or PostgreSQL ledger.",
        ) from None
    except PipeledgerError:
        raise
    finally:
        sink.close()


def _fail(ledger: Ledger, verdict: Verdict) -> None:
    problem = verdict.problem
    assert problem is not None
    raise VerificationFailed(
        f"The ledger {ledger.display_url} fails verification at {problem.subject}:"
        f" {problem.reason}.",
        "Treat everything from that point on as untrusted; restore the ledger from a sink"
        " copy or backup and rerun collect.",
    )


def _report(
    context: Context, ledger: Ledger, verdict: Verdict, *, checked_signatures: bool
) -> None:
    chain = verdict.chain
    context.out(
        f"pipeledger: {ledger.display_url}: {chain.checked} records verified;"
        f" chain head {chain.head_hash}."
    )
    signatures = (
        "signatures verified"
        if checked_signatures
        else "signatures not checked (pass --public-key)"
        if verdict.signed
        else "unsigned"
    )
    context.out(
        f"pipeledger: {verdict.own_checkpoints} checkpoints in the ledger agree with the chain;"
        f" {signatures}."
    )
    for url, count in verdict.copy_checkpoints.items():
        context.out(f"pipeledger: {url}: {count} checkpoints of this chain agree with it.")
