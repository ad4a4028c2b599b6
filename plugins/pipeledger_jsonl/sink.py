"""JSONL file and stdout sinks: one ledger record per line.

The file sink remembers the event ids it holds, so redelivery after a crash adds nothing.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pipeledger.errors import SinkError
from pipeledger.events import canonical_json
from pipeledger.sink import LedgerRecord, Sink, SinkSettings


class JsonlSink(Sink):
    schemes = ("jsonl",)

    def __init__(self, path: Path) -> None:
        self._path = path
        self._ids = _stored_ids(path)

    @classmethod
    def open(cls, url: str, settings: SinkSettings) -> JsonlSink:
        rest = url.split("://", 1)[1]
        if not rest.startswith("/") or rest == "/":
            raise SinkError(
                f"The JSONL sink URL {url!r} has no path.", "Write jsonl:///audit.jsonl."
            )
        return cls(Path(rest[1:]))

    @property
    def display_url(self) -> str:
        return f"jsonl:///{self._path}"

    def write(self, records: Sequence[LedgerRecord]) -> None:
        fresh = [r for r in records if r.event.id not in self._ids]
        if not fresh:
            return
        lines = "".join(canonical_json(r.to_dict()) + "\n" for r in fresh)
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as handle:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise SinkError(
                f"Cannot append to {self._path}: {error.strerror}.",
                "Check the path and free space; the events stay in the ledger and are"
                " delivered on the next run.",
            ) from error
        self._ids.update(r.event.id for r in fresh)


def _stored_ids(path: Path) -> set[str]:
    ids: set[str] = set()
    if not path.exists():
        return ids
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                ids.add(json.loads(line)["event"]["id"])
            except (ValueError, KeyError, TypeError):
                raise SinkError(
                    f"Line {number} of {path} is not a pipeledger record.",
                    "Point the jsonl sink at a new file, or remove the partial last line"
                    " left by an interrupted write.",
                ) from None
    return ids


class StdoutSink(Sink):
    schemes = ("stdout",)
    replays_history = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    @classmethod
    def open(cls, url: str, settings: SinkSettings) -> StdoutSink:
        return cls()

    @property
    def display_url(self) -> str:
        return "-"

    def write(self, records: Sequence[LedgerRecord]) -> None:
        stream = self._stream or sys.stdout
        for record in records:
            stream.write(canonical_json(record.to_dict()) + "\n")
        stream.flush()
