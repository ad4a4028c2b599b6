"""Builds the pack from a ledger: verify the chain, gather the data, render every file, hash
and sign them, and write the folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeledger import __version__
from pipeledger.dora.table import rows_from_dict
from pipeledger.errors import UsageError, VerificationFailed
from pipeledger.events import format_time
from pipeledger.evidence_pack._csv_files import csv_tables
from pipeledger.evidence_pack._data import LedgerState, build_data
from pipeledger.evidence_pack._history import require_facts
from pipeledger.evidence_pack._manifest import (
    MANIFEST,
    FileDigest,
    manifest_of,
    manifest_text,
    sha256,
)
from pipeledger.evidence_pack._parallel import render_everywhere
from pipeledger.evidence_pack._reading import ChainPass, read_period
from pipeledger.evidence_pack._render import Pages
from pipeledger.evidence_pack.controls import ControlMapping
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.json_codec import EncoderFallback, dumps_sorted_chunks
from pipeledger.ledger.chain_check import BodySeen
from pipeledger.ledger.signing import Signer
from pipeledger.ledger.verify import verify_ledger
from pipeledger.policy.audit import collector_paused
from pipeledger.sinks.contract import ChainCheckpoint, Ledger


def ledger_state(ledger: Ledger, each_body: BodySeen | None = None) -> LedgerState:
    """The verified head and latest checkpoint; a ledger that fails verification gets no
    pack (exit 4). ``each_body`` sees every verified record's parsed body."""
    verdict = verify_ledger(ledger, each_body=each_body)
    if verdict.problem is not None:
        raise VerificationFailed(
            f"The ledger {ledger.display_url} fails verification at {verdict.problem.subject}:"
            f" {verdict.problem.reason}; no evidence pack is built from it.",
            "Run pipeledger verify, restore the ledger from a copy, and build the pack again.",
        )
    seq, head_hash = ledger.head()
    return LedgerState(
        url=ledger.display_url,
        chain_id=ledger.chain_id,
        head_seq=seq,
        head_hash=head_hash,
        checkpoint=latest_checkpoint(ledger.own_checkpoints(), seq),
        verified_records=verdict.chain.checked,
    )


def latest_checkpoint(checkpoints: list[ChainCheckpoint], head: int) -> ChainCheckpoint | None:
    """The latest signed checkpoint at or before the head, else the latest unsigned one."""
    usable = [c for c in checkpoints if c.seq <= head]
    signed = [c for c in usable if c.signature]
    chosen = signed or usable
    return max(chosen, key=lambda c: (c.seq, c.created_at)) if chosen else None


def manifest_about(
    data: Mapping[str, Any], options: PackOptions, controls: ControlMapping
) -> dict[str, Any]:
    ledger = data["ledger"]
    return {
        "tool": {"name": "pipeledger", "version": __version__},
        "generated_at": format_time(options.generated_at),
        "period": options.period.to_dict(),
        "environment": options.environment,
        "ledger": {
            "chain_id": ledger["chain_id"],
            "head": ledger["head"],
            "checkpoint": ledger["checkpoint"],
        },
        "policy": {"path": data["policy"]["path"], "sha256": data["policy"]["sha256"]}
        if data["policy"]
        else None,
        "controls_sha256": sha256(controls.text.encode("utf-8")),
        "sampling": {"seed": options.seed, "size": options.sample_size},
    }


def read_pack(ledger: Ledger, options: PackOptions, controls: ControlMapping) -> dict[str, Any]:
    """``data.json``'s content from the ledger. The chain check reads and verifies every
    record, keeping only small summaries; a second read keeps the events the period needs
    (see :mod:`.reading`)."""
    with collector_paused():
        chain = ChainPass(options.period)
        state = ledger_state(ledger, chain)
        history = read_period(ledger, chain, options)
    require_facts(history.history, options, ledger.display_url)
    return build_data(
        history.events,
        state,
        options,
        controls,
        ledger,
        coverage_rows=history.coverage,
        summaries=history.production,
    )


def check_folder(folder: Path) -> None:
    """A new or empty folder: files left from an earlier pack would not be in the manifest.
    Checked before the pack is built, created only when it is written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(
            f"--out {folder} exists and is not an empty folder.",
            "Name a new folder for each pack (e.g. evidence-2024-Q1), or empty this one.",
        )


def unwritable(folder: Path, error: OSError) -> UsageError:
    return UsageError(
        f"Cannot write the evidence pack to {folder}: {error.strerror} ({error.filename}).",
        "Check that --out names a folder you can write to, with room for the pack.",
    )


@dataclass(frozen=True)
class WrittenPack:
    files: int  # the manifest included
    pages: int  # deployment evidence pages


class PackFolder:
    """Writes files into the pack's folder as they are made, hashing each as it goes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.digests: dict[str, FileDigest] = {}

    def write(self, name: str, chunks: Iterable[bytes]) -> FileDigest:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        self.digests[name] = found = FileDigest(digest.hexdigest(), size)
        return found


def stream_pack(
    folder: Path,
    data: dict[str, Any],
    options: PackOptions,
    controls: ControlMapping,
    signer: Signer | None,
) -> WrittenPack:
    """Writes the pack, each file as it is made
    (``data.json`` and the CSV files in pieces, the evidence pages one by one, in forked
    workers too), so no file is held whole; the manifest last, from the digests taken while
    writing, so a folder without one was not finished. Rows of ``data["deployments"]`` are
    dropped once written (no page shows them)."""
    pack = PackFolder(folder)
    try:
        try:
            pack.write("data.json", dumps_sorted_chunks(data))
        except EncoderFallback:  # as dumps_sorted does: the standard library's bytes throughout
            pack.write("data.json", dumps_sorted_chunks(data, fast=False))
        pack.write("controls.yml", [controls.text.encode("utf-8")])
        for name, chunks in csv_tables(data, rows_from_dict(data["dora"])):
            pack.write(name, (text.encode("utf-8") for text in chunks))
        data["deployments"] = []
        pages = Pages(data, signer.key_id if signer else None)
        pack.write("index.html", [pages.index().encode("utf-8")])

        def write_pages(indexes: Sequence[int]) -> dict[str, FileDigest]:
            written = {}
            for index in indexes:
                name, html = pages.evidence(index)
                written[name] = pack.write(name, [html.encode("utf-8")])
            return written

        pack.digests.update(render_everywhere(write_pages, pages.count))
        manifest = manifest_of(pack.digests, manifest_about(data, options, controls), signer)
        pack.write(MANIFEST, [manifest_text(manifest).encode("utf-8")])
    except OSError as error:
        raise unwritable(folder, error) from None
    return WrittenPack(
        files=len(pack.digests),
        pages=sum(1 for name in pack.digests if name.startswith("deployments/")),
    )
