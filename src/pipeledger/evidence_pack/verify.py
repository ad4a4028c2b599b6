"""``report verify``: the pack's files against its manifest, the manifest's signature against a
public key, and the ledger head and checkpoint it names against the ledger itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeledger.evidence_pack._manifest import (
    MANIFEST,
    MANIFEST_SCHEMA,
    PackProblem,
    file_problems,
    signature_problem,
)
from pipeledger.ledger.signing import PublicKey
from pipeledger.sinks.contract import ChainCheckpoint, EventFilter, Ledger


@dataclass(frozen=True)
class PackVerdict:
    manifest: dict[str, Any]
    problems: list[PackProblem]
    files: int
    signature_checked: bool
    ledger_checked: bool

    @property
    def key_id(self) -> str | None:
        signature = self.manifest.get("signature")
        return str(signature.get("key_id")) if isinstance(signature, dict) else None


def read_manifest(folder: Path) -> tuple[dict[str, Any] | None, PackProblem | None]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, PackProblem(MANIFEST, "is missing, so nothing in the folder can be checked")
    except (OSError, ValueError, UnicodeDecodeError):
        return None, PackProblem(MANIFEST, "cannot be read as JSON")
    if not _well_formed(manifest):
        return None, PackProblem(MANIFEST, f"is not a {MANIFEST_SCHEMA} manifest")
    return manifest, None


def _well_formed(manifest: Any) -> bool:
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
        return False
    files = manifest.get("files")
    return isinstance(files, list) and all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str)
        for f in files
    )


def verify_pack(
    folder: Path, key: PublicKey | None = None, ledger: Ledger | None = None
) -> PackVerdict:
    manifest, problem = read_manifest(folder)
    if manifest is None:
        assert problem is not None
        return PackVerdict({}, [problem], 0, signature_checked=False, ledger_checked=False)
    problems = file_problems(folder, manifest)
    if key is not None and (bad := signature_problem(manifest, key)) is not None:
        problems.append(bad)
    if ledger is not None:
        problems += ledger_problems(manifest, ledger)
    return PackVerdict(
        manifest,
        problems,
        len(manifest["files"]),
        signature_checked=key is not None,
        ledger_checked=ledger is not None,
    )


def ledger_problems(manifest: dict[str, Any], ledger: Ledger) -> list[PackProblem]:
    """The head and checkpoint the pack names must be in this ledger's chain."""
    named = manifest.get("ledger") or {}
    problems = []
    if named.get("chain_id") != ledger.chain_id:
        problems.append(
            PackProblem(
                "the ledger",
                f"{ledger.display_url} is chain {ledger.chain_id}, the pack was built from"
                f" chain {named.get('chain_id')}",
            )
        )
        return problems
    head = named.get("head") or {}
    if _hash_at(ledger, int(head.get("seq") or 0)) != head.get("hash"):
        problems.append(
            PackProblem(
                "the ledger",
                f"has no record seq {head.get('seq')} with hash {str(head.get('hash'))[:16]}…"
                " as the pack's manifest names (the ledger was cut or rewritten)",
            )
        )
    checkpoint = named.get("checkpoint")
    if checkpoint and not _holds(ledger, checkpoint):
        problems.append(
            PackProblem(
                "the ledger",
                f"holds no checkpoint at seq {checkpoint.get('seq')} as the pack names",
            )
        )
    return problems


def _hash_at(ledger: Ledger, seq: int) -> str | None:
    if seq == 0:
        return "0" * 64
    for record in ledger.records(EventFilter(after_seq=seq - 1)):
        return record.hash if record.seq == seq else None
    return None


def _holds(ledger: Ledger, named: dict[str, Any]) -> bool:
    try:
        wanted = ChainCheckpoint.from_dict(named)
    except (ValueError, KeyError, TypeError):
        return False
    return any(
        c.seq == wanted.seq and c.head_hash == wanted.head_hash and c.signature == wanted.signature
        for c in ledger.own_checkpoints()
    )
