"""The evidence pack built whole in memory, as ``report`` built it before it wrote each file
as it is made: the reference the streamed pack (``builder.stream_pack``) is held to, byte for
byte, and a quick way for tests to get every file of a pack as bytes. Nothing in pipeledger
uses it; it lives with the tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeledger.dora.table import rows_from_dict
from pipeledger.events import AuditEvent
from pipeledger.evidence_pack._csv_files import csv_tables
from pipeledger.evidence_pack._data import LedgerState, build_data
from pipeledger.evidence_pack._manifest import (
    MANIFEST,
    FileDigest,
    manifest_of,
    manifest_text,
    sha256,
)
from pipeledger.evidence_pack._parallel import render_everywhere
from pipeledger.evidence_pack._render import Pages
from pipeledger.evidence_pack.builder import manifest_about, read_pack, unwritable
from pipeledger.evidence_pack.controls import ControlMapping
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.json_codec import dumps_sorted
from pipeledger.ledger.signing import Signer
from pipeledger.sinks.contract import Ledger


def build_pack(
    ledger: Ledger, options: PackOptions, controls: ControlMapping, signer: Signer | None
) -> dict[str, bytes]:
    """Every file of the pack read from ``ledger``, in memory."""
    return files_of(read_pack(ledger, options, controls), options, controls, signer)


def pack_files(
    events: list[AuditEvent],
    state: LedgerState,
    options: PackOptions,
    controls: ControlMapping,
    ledger: Ledger | None,
    signer: Signer | None,
) -> dict[str, bytes]:
    """Every file of the pack made from ``events``: every standing fact of the ledger (the
    whole-ledger build the period's reads are held to)."""
    data = build_data(events, state, options, controls, ledger)
    return files_of(data, options, controls, signer)


def files_of(
    data: dict[str, Any], options: PackOptions, controls: ControlMapping, signer: Signer | None
) -> dict[str, bytes]:
    """Every file of the pack by its path, the manifest included: data.json encoded whole,
    each CSV file joined, every page rendered, and the manifest from the bytes."""
    files: dict[str, bytes] = {
        "data.json": dumps_sorted({**data, "events": dict(data["events"])}),
        "controls.yml": controls.text.encode("utf-8"),
    }
    for name, chunks in csv_tables(data, rows_from_dict(data["dora"])):
        files[name] = "".join(chunks).encode("utf-8")
    pages = Pages(data, signer.key_id if signer else None)
    files["index.html"] = pages.index().encode("utf-8")
    rendered = render_everywhere(
        lambda indexes: dict(pages.evidence(index) for index in indexes), pages.count
    )
    files.update((name, html.encode("utf-8")) for name, html in rendered.items())
    digests = {path: FileDigest(sha256(data), len(data)) for path, data in files.items()}
    manifest = manifest_of(digests, manifest_about(data, options, controls), signer)
    files[MANIFEST] = manifest_text(manifest).encode("utf-8")
    return files


def write_pack(folder: Path, files: Mapping[str, bytes]) -> None:
    """Writes every file; the manifest last."""
    try:
        for name, data in sorted(files.items(), key=lambda item: item[0] == MANIFEST):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except OSError as error:
        raise unwritable(folder, error) from None
