"""``pipeledger report``: the auditor's signed evidence pack for a period; ``pipeledger report
verify DIR`` checks one (exit 4 naming any changed, added or removed file)."""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.metrics_cmd import add_dora_options, dora_settings
from pipeledger.cli.options import add_flag, add_option
from pipeledger.errors import ExitCode, UsageError, VerificationFailed
from pipeledger.evidence_pack.builder import check_folder, read_pack, stream_pack
from pipeledger.evidence_pack.controls import load_controls
from pipeledger.evidence_pack.options import DEFAULT_SAMPLE, PackOptions, working_hours
from pipeledger.evidence_pack.verify import PackVerdict, verify_pack
from pipeledger.ledger.signing import SIGNING_KEY_ENV, Signer, load_public_key, signer_from_environ
from pipeledger.period import parse_period
from pipeledger.policy.loader import load_policy


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "report", help="write the auditor's signed evidence pack for a period"
    )
    add_option(parser, "--period", help="2024-Q1, 2024-03, 2024, 2024-01-01..2024-03-31 or 90d")
    add_option(parser, "--out", metavar="DIR", help="a new (or empty) folder for the pack")
    add_option(parser, "--policy", metavar="FILE", help="policy whose verdicts the pack shows")
    add_option(
        parser,
        "--sample",
        default=DEFAULT_SAMPLE,
        type=int,
        metavar="N",
        help="random deployments beyond the flagged ones",
    )
    add_option(
        parser,
        "--seed",
        shown_default="a new one, recorded",
        type=int,
        help="seed of the random sample",
    )
    add_option(parser, "--environment", help="only deployments to this environment")
    add_option(
        parser,
        "--working-hours",
        default="07-20",
        metavar="HH-HH",
        help="the team's usual hours, Monday to Friday",
    )
    add_option(parser, "--timezone", default="UTC", help="time zone of --working-hours")
    add_option(
        parser,
        "--controls",
        shown_default="the bundled controls.yml",
        metavar="FILE",
        help="control mapping",
    )
    # Its environment twin is the signing key's own variable, PIPELEDGER_SIGNING_KEY.
    add_option(
        parser, "--signing-key", metavar="FILE", help="Ed25519 private key from pipeledger keygen"
    )
    add_flag(parser, "--unsigned", help="write an unsigned draft pack")
    add_dora_options(parser)
    add_sink_option(parser)
    actions = parser.add_subparsers(dest="report_action", metavar="ACTION", required=False)
    verify = actions.add_parser("verify", help="check a pack's files, signature and ledger")
    verify.add_argument("folder", metavar="DIR", help="the pack's folder")
    add_option(
        verify,
        "--public-key",
        metavar="FILE",
        help="the signer's public key, PEM, from pipeledger keygen",
    )
    add_option(
        verify,
        "--sink",
        default=[],
        action="append",
        metavar="URL",
        help="the ledger the pack must come from",
    )
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    if getattr(args, "report_action", None) == "verify":
        return run_verify(args, context)
    options = _options(args)
    signer = _signer(args)
    controls = load_controls(args.controls)
    folder = Path(args.out)
    check_folder(folder)
    sinks = context.open_sinks(args, reading=True)
    try:
        data = read_pack(sinks.ledger, options, controls)
    finally:
        sinks.close()
    written = stream_pack(folder, data, options, controls, signer)
    signed = f"signed by key {signer.key_id}" if signer else "UNSIGNED draft"
    context.out(
        f"pipeledger: wrote the evidence pack {folder} for {options.period.label}:"
        f" {written.files} files, {written.pages} deployment evidence pages, sample seed"
        f" {options.seed}; {signed}."
    )
    if signer is None:
        context.err(
            "pipeledger: warning: the pack is not signed; set PIPELEDGER_SIGNING_KEY (or"
            " --signing-key) to a key from pipeledger keygen for a pack an auditor can trust."
        )
    return int(ExitCode.OK)


def _options(args: argparse.Namespace) -> PackOptions:
    if not args.period or not args.out:
        raise UsageError(
            "pipeledger report needs --period and --out.",
            "For example: pipeledger report --period 2024-Q1 --out evidence-2024-Q1.",
        )
    sample = int(args.sample)
    if sample < 0:
        raise UsageError(f"--sample {sample} is negative.", "Use 0 or more (default 25).")
    return PackOptions(
        period=parse_period(str(args.period)),
        generated_at=datetime.now(UTC).replace(microsecond=0),
        seed=int(args.seed) if args.seed is not None else secrets.randbelow(2**32),
        sample_size=sample,
        environment=args.environment,
        hours=working_hours(str(args.working_hours), str(args.timezone)),
        dora=dora_settings(args),
        policy=load_policy(args.policy) if args.policy else None,
    )


def _signer(args: argparse.Namespace) -> Signer | None:
    if args.unsigned:
        return None
    signer = signer_from_environ({SIGNING_KEY_ENV: args.signing_key or ""})
    if signer is None:
        raise UsageError(
            "An evidence pack is signed, and no signing key is set.",
            f"Set {SIGNING_KEY_ENV} (or --signing-key) to the private key from pipeledger"
            " keygen, or pass --unsigned for a draft.",
        )
    return signer


def run_verify(args: argparse.Namespace, context: Context) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder.", "Name the folder pipeledger report wrote.")
    key = load_public_key(args.public_key) if args.public_key else None
    if args.sink:
        sinks = context.open_sinks(args, reading=True)
        try:
            verdict = verify_pack(folder, key, sinks.ledger)
        finally:
            sinks.close()
    else:
        verdict = verify_pack(folder, key)
    if verdict.problems:
        listed = "; ".join(f"{p.subject} {p.reason}" for p in verdict.problems)
        raise VerificationFailed(
            f"The evidence pack {folder} fails verification: {listed}.",
            "Do not rely on this copy; ask for the pack again from whoever built it.",
        )
    _verified(context, folder, verdict)
    return int(ExitCode.OK)


def _verified(context: Context, folder: Path, verdict: PackVerdict) -> None:
    if verdict.signature_checked:
        signature = f"signature by key {verdict.key_id} verified"
    elif verdict.key_id:
        signature = f"signed by key {verdict.key_id}, not checked (pass --public-key)"
    else:
        signature = "UNSIGNED draft"
    named = verdict.manifest["ledger"]
    checkpoint = f" and checkpoint seq {named['checkpoint']['seq']}" if named["checkpoint"] else ""
    ledger = (
        f" the ledger holds its head seq {named['head']['seq']}{checkpoint}."
        if verdict.ledger_checked
        else " ledger not checked (pass --sink)."
    )
    context.out(
        f"pipeledger: {folder}: {verdict.files} files match the manifest; {signature};{ledger}"
    )
