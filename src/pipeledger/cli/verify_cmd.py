"""``pipeledger verify``: recompute the ledger's hash chain, check its checkpoints (their
signatures with ``--public-key``, copies elsewhere with ``--against``) and name the first bad
record or checkpoint."""

from __future__ import annotations

import argparse
from typing import Any

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.options import add_option
from pipeledger.errors import ExitCode, PipeledgerError, UsageError, VerificationFailed
from pipeledger.ledger.checkpoint_file import (
    is_checkpoint_file,
    read_checkpoint_file,
    write_checkpoint_file,
)
from pipeledger.ledger.signing import load_public_key
from pipeledger.ledger.verify import CopyCheckpoints, Verdict, verify_ledger
from pipeledger.sinks.contract import ChainCheckpoint, Ledger, SinkSettings
from pipeledger.sinks.fanout import latest_chained, open_sink


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "verify",
        help="check the ledger's hash chain and checkpoints; exit 4 if anything was altered",
    )
    add_sink_option(parser)
    add_option(
        parser,
        "--public-key",
        default=[],
        action="append",
        metavar="FILE",
        help="Ed25519 public key (PEM, from pipeledger keygen): checkpoint signatures must"
        " verify and cover the head; repeat for rotated keys",
    )
    add_option(
        parser,
        "--against",
        default=[],
        action="append",
        metavar="URL|FILE",
        help="another copy (a jsonl file or another ledger), or a checkpoint file written by"
        " --export-checkpoint, whose checkpoints of this chain must agree with it; repeatable",
    )
    add_option(
        parser,
        "--export-checkpoint",
        metavar="FILE",
        help="after a passing verification, write the latest checkpoint (the latest one"
        " signed with --public-key, if given) to FILE, to keep outside the ledger",
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
        own = ledger.own_checkpoints()
    finally:
        sinks.close()
    if verdict.problem is not None:
        _fail(ledger, verdict)
    _report(context, ledger, verdict, checked_signatures=bool(keys))
    if args.export_checkpoint:
        _export(args.export_checkpoint, verdict, own, ledger.display_url, context)
    return int(ExitCode.OK)


def _export(
    path: str, verdict: Verdict, own: list[ChainCheckpoint], ledger: str, context: Context
) -> None:
    chosen = verdict.coverage.latest if verdict.coverage else latest_chained(own)
    chosen = chosen or max(own, key=lambda c: c.seq, default=None)
    if chosen is None:
        raise UsageError(
            f"The ledger {ledger} has no checkpoint to export.",
            "Run pipeledger flush (with PIPELEDGER_SIGNING_KEY set to sign it) first.",
        )
    write_checkpoint_file(path, chosen, ledger)
    context.out(
        f"pipeledger: checkpoint {chosen.counter or '-'} (seq {chosen.seq},"
        f" {'signed by key ' + chosen.key_id if chosen.key_id else 'unsigned'}) written to"
        f" {path}."
    )


def _copy_checkpoints(url: str, settings: SinkSettings) -> CopyCheckpoints:
    if is_checkpoint_file(url):
        return CopyCheckpoints(url, read_checkpoint_file(url))
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
    coverage = verdict.coverage
    if coverage is not None and coverage.latest is not None:
        share = 100.0 if chain.checked == 0 else 100 * coverage.covered_seq / chain.checked
        latest = coverage.latest
        context.out(
            f"pipeledger: coverage: records 1 to {coverage.covered_seq} of {chain.checked}"
            f" ({share:.1f} %) are covered by a checkpoint signed with key {latest.key_id}"
            f" (checkpoint {latest.counter or '-'} of {latest.created_at.isoformat()})."
        )
