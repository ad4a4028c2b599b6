"""Builds the pack from a ledger: verify the chain, gather the data, render every file, hash
and sign them, and write the folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeledger import __version__
from pipeledger.dora.table import rows_from_dict
from pipeledger.errors import UsageError, VerificationFailed
from pipeledger.events import AuditEvent, format_time
from pipeledger.evidence_pack.controls import ControlMapping
from pipeledger.evidence_pack.csv_files import csv_files
from pipeledger.evidence_pack.data import LedgerState, build_data
from pipeledger.evidence_pack.history import require_facts
from pipeledger.evidence_pack.manifest import MANIFEST, build_manifest, manifest_text, sha256
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.evidence_pack.reading import ChainPass, PeriodHistory, read_period
from pipeledger.evidence_pack.render import render_pages
from pipeledger.json_codec import dumps_sorted
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


def pack_files(
    events: list[AuditEvent],
    state: LedgerState,
    options: PackOptions,
    controls: ControlMapping,
    ledger: Ledger | None,
    signer: Signer | None,
    history: PeriodHistory | None = None,
) -> dict[str, bytes]:
    """Every file of the pack by its relative path, the manifest included: from ``history``
    (what :func:`read_period` kept, ``events`` being its events), or from ``events`` alone
    when they are every standing fact of the ledger."""
    if history is None:
        data = build_data(events, state, options, controls, ledger)
    else:
        data = build_data(
            events,
            state,
            options,
            controls,
            ledger,
            coverage_rows=history.coverage,
            summaries=history.production,
        )
    files: dict[str, bytes] = {
        # Compact, by orjson where installed (with indent, json falls back to its pure-Python
        # encoder, ten times slower).
        "data.json": dumps_sorted(data),
        "controls.yml": controls.text.encode("utf-8"),
    }
    for name, text in csv_files(data, rows_from_dict(data["dora"])).items():
        files[name] = text.encode("utf-8")
    for name, html in render_pages(data, signer.key_id if signer else None).items():
        files[name] = html.encode("utf-8")
    manifest = build_manifest(files, _about(data, options, controls), signer)
    files[MANIFEST] = manifest_text(manifest).encode("utf-8")
    return files


def _about(
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


def build_pack(
    ledger: Ledger, options: PackOptions, controls: ControlMapping, signer: Signer | None
) -> dict[str, bytes]:
    """The chain check reads and verifies every record, keeping only small summaries; a
    second read keeps the events the period needs (see :mod:`.reading`)."""
    with collector_paused():
        chain = ChainPass(options.period)
        state = ledger_state(ledger, chain)
        history = read_period(ledger, chain, options)
    require_facts(history.history, options, ledger.display_url)
    return pack_files(history.events, state, options, controls, ledger, signer, history)


def check_folder(folder: Path) -> None:
    """A new or empty folder: files left from an earlier pack would not be in the manifest.
    Checked before the pack is built, created only when it is written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(
            f"--out {folder} exists and is not an empty folder.",
            "Name a new folder for each pack (e.g. evidence-2024-Q1), or empty this one.",
        )


def write_pack(folder: Path, files: Mapping[str, bytes]) -> None:
    """Writes every file; the manifest last, so a folder without one was not finished."""
    try:
        for name, data in sorted(files.items(), key=lambda item: item[0] == MANIFEST):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except OSError as error:
        raise UsageError(
            f"Cannot write the evidence pack to {folder}: {error.strerror} ({error.filename}).",
            "Check that --out names a folder you can write to, with room for the pack.",
        ) from None
