"""A chain checkpoint exported to a small JSON file (``verify --export-checkpoint``), to keep
outside the ledger — a CI artifact, an object-locked bucket, a commit — and compare the ledger
against later (``verify --against FILE``): a ledger wiped, cut back or replaced since then no
longer matches it."""

from __future__ import annotations

import json
from pathlib import Path

from pipeledger.errors import UsageError
from pipeledger.sinks.contract import ChainCheckpoint

FORMAT = "pipeledger/checkpoint-export/v1"


def write_checkpoint_file(path: str, checkpoint: ChainCheckpoint, ledger: str) -> None:
    document = {"format": FORMAT, "ledger": ledger, "checkpoint": checkpoint.to_dict()}
    try:
        Path(path).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", "utf-8")
    except OSError as error:
        raise UsageError(
            f"--export-checkpoint cannot write {path}: {error.strerror}.",
            "Name a file in a writable directory.",
        ) from None


def is_checkpoint_file(value: str) -> bool:
    """``--against`` takes a sink URL or, without ``://``, an exported checkpoint file."""
    return "://" not in value and value != "-"


def read_checkpoint_file(path: str) -> list[ChainCheckpoint]:
    try:
        document = json.loads(Path(path).read_text("utf-8"))
    except OSError as error:
        raise UsageError(
            f"--against {path}: the checkpoint file cannot be read: {error.strerror}.",
            "Pass a file written by pipeledger verify --export-checkpoint, or a sink URL.",
        ) from None
    except ValueError:
        document = None
    try:
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError("not an exported checkpoint")
        return [ChainCheckpoint.from_dict(document["checkpoint"])]
    except (ValueError, KeyError, TypeError):
        raise UsageError(
            f"--against {path} is not a checkpoint file written by pipeledger verify"
            " --export-checkpoint.",
            "Pass such a file, or a sink URL such as jsonl:///path/copy.jsonl.",
        ) from None
