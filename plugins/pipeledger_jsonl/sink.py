"""JSONL file and stdout sinks: one ledger record per line, and chain checkpoints as
``{"checkpoint": {...}}`` lines between them.

The file sink remembers the event ids and checkpoints it holds, so redelivery after a crash
adds nothing; it can be read back for ``verify --against``. A last line without its newline
is a write a killed process did not finish: it is not read as held (its records are sent
again, as the delivery cursor never moved past them), and the next append cuts it off first.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pipeledger.plugin import (
    ChainCheckpoint,
    LedgerRecord,
    Sink,
    SinkError,
    SinkSettings,
    canonical_json,
)


class JsonlSink(Sink):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._contents = _read(path)

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
        fresh = [r for r in records if r.event.id not in self._contents.ids]
        if not fresh:
            return
        self._append("".join(r.to_json() + "\n" for r in fresh))
        self._contents.ids.update(r.event.id for r in fresh)

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        line = canonical_json({"checkpoint": checkpoint.to_dict()})
        if line in self._contents.checkpoint_lines:
            return
        self._append(line + "\n")
        self._contents.checkpoint_lines.add(line)
        self._contents.checkpoints.append(checkpoint)

    def stored_checkpoints(self) -> Iterator[ChainCheckpoint]:
        return iter(list(self._contents.checkpoints))

    def check(self) -> None:
        problem = _unwritable(self._path)
        if problem:
            raise SinkError(
                f"The JSONL sink {self.display_url}: {problem}.",
                "Fix the path, or give the user running pipeledger write permission there.",
            )

    def _append(self, text: str) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            if self._contents.torn_at is not None:
                os.truncate(self._path, self._contents.torn_at)
                self._contents.torn_at = None
            with self._path.open("a", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise SinkError(
                f"Cannot append to {self._path}: {error.strerror}.",
                "Check the path and free space; the events stay in the ledger and are"
                " delivered on the next run.",
            ) from error


@dataclass
class _Contents:
    """What the file already holds: event ids, and checkpoints (as lines, for dedupe)."""

    ids: set[str] = field(default_factory=set)
    checkpoint_lines: set[str] = field(default_factory=set)
    checkpoints: list[ChainCheckpoint] = field(default_factory=list)
    # Where an unfinished last line starts (no newline yet): cut before the next append.
    torn_at: int | None = None


def _read(path: Path) -> _Contents:
    contents = _Contents()
    if not path.exists():
        return contents
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):  # only the last line can lack it: an unfinished write
                contents.torn_at = offset
                break
            if raw.strip():
                _take_line(contents, raw.decode("utf-8", errors="replace"), number, path)
            offset += len(raw)
    return contents


def _take_line(contents: _Contents, line: str, number: int, path: Path) -> None:
    try:
        data: Any = json.loads(line)
        if "checkpoint" in data:
            checkpoint = ChainCheckpoint.from_dict(data["checkpoint"])
            contents.checkpoint_lines.add(canonical_json({"checkpoint": checkpoint.to_dict()}))
            contents.checkpoints.append(checkpoint)
        else:
            contents.ids.add(str(data["event"]["id"]))
    except (ValueError, KeyError, TypeError):
        raise SinkError(
            f"Line {number} of {path} is not a pipeledger record or checkpoint.",
            "Point the jsonl sink at a new file, or remove the partial last line"
            " left by an interrupted write.",
        ) from None


def _unwritable(path: Path) -> str | None:
    """Why the file could not be appended to (or created), if anything stops it."""
    if path.exists():
        if not path.is_file():
            return f"{path} is not a regular file"
        return None if os.access(path, os.W_OK) else f"{path} is not writable"
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is not a directory, so {path} cannot be created"
            return None if os.access(parent, os.W_OK) else f"{parent} is not writable"
    return f"no directory of {path} exists"


class StdoutSink(Sink):
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
            stream.write(record.to_json() + "\n")
        stream.flush()

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        stream = self._stream or sys.stdout
        stream.write(canonical_json({"checkpoint": checkpoint.to_dict()}) + "\n")
        stream.flush()
