"""``pipeledger keygen``: create an Ed25519 key pair for signing chain checkpoints. The
private key goes to a file readable only by its owner and is never printed."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pipeledger.cli.command_context import Context
from pipeledger.cli.options import add_flag, add_option
from pipeledger.errors import ExitCode, UsageError
from pipeledger.ledger.signing import SIGNING_KEY_ENV, generate_key_pair


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "keygen", help="create an Ed25519 key pair for signed checkpoints"
    )
    add_option(
        parser,
        "--out",
        default="pipeledger-signing",
        metavar="PREFIX",
        help="write PREFIX.key (private, mode 0600) and PREFIX.pub",
    )
    add_flag(parser, "--force", help="replace existing key files")
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    private_path = Path(f"{args.out}.key")
    public_path = Path(f"{args.out}.pub")
    if not args.force:
        for path in (private_path, public_path):
            if path.exists():
                raise UsageError(
                    f"{path} already exists; pipeledger keygen does not overwrite keys.",
                    "Choose another --out prefix, or pass --force to replace the key pair.",
                )
    private_pem, public_pem, key_id = generate_key_pair()
    _write(private_path, private_pem, 0o600, force=bool(args.force))
    _write(public_path, public_pem, 0o644, force=bool(args.force))
    context.out(
        f"pipeledger: wrote the private key {private_path} (mode 0600) and the public key"
        f" {public_path}; key id {key_id}.\n"
        f"Sign checkpoints by giving the collector the private key, e.g. as a CI secret:\n"
        f'  export {SIGNING_KEY_ENV}="$(cat {private_path})"   # or the file\'s path\n'
        f"Check the ledger with the public key:\n"
        f"  pipeledger verify --public-key {public_path}\n"
        f"Keep {private_path} secret and off the machines that store the ledger; publish"
        f" {public_path}."
    )
    return int(ExitCode.OK)


def _write(path: Path, data: bytes, mode: int, *, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, mode)
    except FileExistsError:
        raise UsageError(
            f"{path} already exists; pipeledger keygen does not overwrite keys.",
            "Choose another --out prefix, or pass --force to replace the key pair.",
        ) from None
    except OSError as error:
        raise UsageError(f"Cannot create {path}: {error.strerror}.", "Check --out.") from None
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)
