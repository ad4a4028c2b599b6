"""``manifest.json``: every file of the pack with its SHA-256, what the pack was built from
(ledger head and checkpoint, period, policy digest, sampling seed, tool version) and an
Ed25519 signature over all of it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeledger.events import canonical_json
from pipeledger.ledger.signing import PublicKey, Signer

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = "pipeledger/evidence-manifest/v1"
SIGNATURE_CONTEXT = b"pipeledger-evidence-pack-v1\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_bytes(manifest: Mapping[str, Any]) -> bytes:
    """What the signature covers: a fixed label, then the manifest without its signature as
    canonical JSON (sorted keys, no spaces, UTF-8)."""
    unsigned = {key: value for key, value in manifest.items() if key != "signature"}
    return SIGNATURE_CONTEXT + canonical_json(unsigned).encode("utf-8")


@dataclass(frozen=True)
class FileDigest:
    """A written file's SHA-256 and size, as its manifest entry records them."""

    sha256: str
    size: int


def manifest_of(
    digests: Mapping[str, FileDigest], about: Mapping[str, Any], signer: Signer | None
) -> dict[str, Any]:
    """The manifest of files known by their digests (a pack written as it is made)."""
    manifest: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        **about,
        "files": [
            {"path": path, "sha256": digest.sha256, "bytes": digest.size}
            for path, digest in sorted(digests.items())
        ],
        "signature": None,
    }
    if signer is not None:
        manifest["signature"] = {
            "algorithm": "ed25519",
            "key_id": signer.key_id,
            "value": signer.sign_message(signed_bytes(manifest)),
        }
    return manifest


def manifest_text(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class PackProblem:
    """One reason a pack does not verify, naming the file or the signature."""

    subject: str
    reason: str


def file_problems(folder: Path, manifest: Mapping[str, Any]) -> list[PackProblem]:
    """Changed, missing and added files, by path."""
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    present = {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() or path.is_symlink()
    } - {MANIFEST}
    problems = [
        PackProblem(path, "is listed in the manifest but missing")
        for path in sorted(listed.keys() - present)
    ]
    problems += [
        PackProblem(path, "is not listed in the manifest (a file was added)")
        for path in sorted(present - listed.keys())
    ]
    for path in sorted(listed.keys() & present):
        target = folder / path
        if target.is_symlink() or sha256(target.read_bytes()) != listed[path]:
            problems.append(PackProblem(path, "does not match its SHA-256 in the manifest"))
    return problems


def signature_problem(manifest: Mapping[str, Any], key: PublicKey) -> PackProblem | None:
    signature = manifest.get("signature")
    if not isinstance(signature, Mapping):
        return PackProblem("the manifest", "is not signed, so --public-key cannot vouch for it")
    if signature.get("key_id") != key.key_id:
        return PackProblem(
            "the manifest's signature",
            f"is by key {signature.get('key_id')}, not by the given key {key.key_id}",
        )
    if not key.verifies_message(signed_bytes(manifest), str(signature.get("value"))):
        return PackProblem(
            "the manifest's signature", "does not verify (the manifest was altered or forged)"
        )
    return None
