"""``pipeledger report`` writes each file of the pack as it is made (builder.stream_pack):
the folder holds exactly the files, byte for byte, of the pack built in memory
(builder.files_of), the manifest and its signature included; a write error is the same
UsageError as before."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from pipeledger import json_codec
from pipeledger.errors import UsageError
from pipeledger.evidence_pack import _csv_files, _parallel
from pipeledger.evidence_pack.builder import read_pack, stream_pack
from pipeledger.evidence_pack.controls import load_controls
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.evidence_pack.verify import verify_pack
from pipeledger.ledger.signing import (
    SIGNING_KEY_ENV,
    Signer,
    generate_key_pair,
    load_public_key,
    signer_from_environ,
)
from pipeledger.sinks.contract import SinkSettings
from pipeledger_sqlite.sink import SqliteSink
from tests.core.evidence_pack.in_memory import files_of, write_pack
from tests.core.evidence_pack.test_pack_reading import _history, _options
from tests.core.report.history import write_ledger


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("streaming")
    return write_ledger(folder / "ledger.db", _history())


@pytest.fixture(scope="module")
def key_pair() -> tuple[Signer, bytes]:
    private, public, _key_id = generate_key_pair()
    signer = signer_from_environ({SIGNING_KEY_ENV: private.decode()})
    assert signer is not None
    return signer, public


def _data(url: str, options: PackOptions) -> dict[str, Any]:
    ledger = SqliteSink.open(url, SinkSettings(environ={}))
    try:
        return read_pack(ledger, options, load_controls(None))
    finally:
        ledger.close()


def _folder_files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def _streamed_and_in_memory(
    url: str, options: PackOptions, folder: Path, signer: Signer | None
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    data = _data(url, options)
    expected = files_of(data, options, load_controls(None), signer)
    written = stream_pack(folder, data, options, load_controls(None), signer)
    found = _folder_files(folder)
    assert written.files == len(found)
    assert written.pages == sum(name.startswith("deployments/") for name in found)
    return found, expected


@pytest.mark.parametrize("period", ["2026-03", "2026-Q2", "2026"])
def test_the_streamed_pack_is_the_in_memory_pack_byte_for_byte(
    ledger_url: str, period: str, tmp_path: Path
) -> None:
    options = _options(period, sample_size=30)
    found, expected = _streamed_and_in_memory(ledger_url, options, tmp_path / "pack", None)
    assert sorted(found) == sorted(expected)
    assert [name for name in expected if found[name] != expected[name]] == []
    assert sum(name.startswith("deployments/") for name in found) > 30


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_pages_written_by_workers_and_signed_manifest(
    ledger_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    key_pair: tuple[Signer, bytes],
) -> None:
    """Forked workers write their pages and send back only the digests; the signed
    manifest covers them, as the in-memory pack's does, and the folder verifies."""
    monkeypatch.setattr(_parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(_parallel, "PAGES_PER_WORKER", 3)
    # Small pieces: data.json and the CSV files are written in many of them.
    monkeypatch.setattr(json_codec, "PIECE_BYTES", 512)
    monkeypatch.setattr(_csv_files, "ROWS_PER_CHUNK", 3)
    signer, public = key_pair
    options = _options("2026-Q1", sample_size=20)
    folder = tmp_path / "pack"
    found, expected = _streamed_and_in_memory(ledger_url, options, folder, signer)
    assert found == expected
    assert json.loads(found["manifest.json"])["signature"]["key_id"] == signer.key_id
    (tmp_path / "public.pem").write_bytes(public)
    verdict = verify_pack(folder, load_public_key(str(tmp_path / "public.pem")))
    assert verdict.problems == []


def test_data_json_in_pieces_is_dumps_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_codec, "PIECE_BYTES", 1000)
    document: dict[str, Any] = {
        "z": [{"b": 1.5e-05, "a": "é\n\u2028"} for _ in range(200)],
        "events": {f"id-{n:04d}": {"n": n, "x": [None, True, -0.0]} for n in range(300)},
        "small": {"b": [], "a": {}},
    }
    pieces = list(json_codec.dumps_sorted_chunks(document))
    assert b"".join(pieces) == json_codec.dumps_sorted(document)
    assert len(pieces) > 1
    # A Mapping that makes its values when read (data["events"]) is written as its dict.
    made = MappingProxyType({"b": {"y": 2, "x": 1}, "a": [1.5e-05]})
    assert b"".join(json_codec.dumps_sorted_chunks({"m": made})) == (
        json_codec.dumps_sorted({"m": dict(made)})
    )
    # Keys json turns into strings: their dict is encoded whole, by the standard library.
    document["numbers"] = {index: "x" * 100 for index in range(100)}
    assert b"".join(json_codec.dumps_sorted_chunks(document, fast=False)) == (
        json_codec._stdlib_dumps(document)
    )


@pytest.mark.skipif(json_codec.parser_name() != "orjson", reason="orjson is not installed")
def test_a_piece_orjson_refuses_falls_back_like_dumps_sorted(
    ledger_url: str, tmp_path: Path
) -> None:
    """dumps_sorted writes the standard library's bytes for the whole of a document orjson
    refuses (an integer beyond 64 bits); so does the streamed data.json."""
    with pytest.raises(json_codec.EncoderFallback):
        b"".join(json_codec.dumps_sorted_chunks({"big": 2**70, "tiny": 1e-05}))
    options = _options("2026-03")
    data = _data(ledger_url, options)
    data["extra"] = {"huge": 2**70, "tiny": 1e-05}  # as an event attribute might hold
    expected = files_of(data, options, load_controls(None), None)
    stream_pack(tmp_path / "pack", data, options, load_controls(None), None)
    assert b'"tiny":1e-05' in expected["data.json"]
    assert (tmp_path / "pack" / "data.json").read_bytes() == expected["data.json"]


def test_a_write_error_is_the_same_usage_error(ledger_url: str, tmp_path: Path) -> None:
    options = _options("2026-03")
    data = _data(ledger_url, options)
    expected = files_of(data, options, load_controls(None), None)
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(UsageError) as before:
        write_pack(blocker / "pack", expected)
    with pytest.raises(UsageError) as now:
        stream_pack(blocker / "pack", data, options, load_controls(None), None)
    assert now.value.args == before.value.args
    assert "Cannot write the evidence pack" in str(now.value)
