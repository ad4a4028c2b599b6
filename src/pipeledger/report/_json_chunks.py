"""JSON written as it is made: a document with one long list (the findings) is rendered item
by item, in pieces, byte for byte what ``json.dumps(document, indent=2)`` gives for the whole
— so a report of 100,000s of findings is never held as one string."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# Stands where the list goes while the rest of the document is rendered; json.dumps turns
# the NULs into \u0000, which no rendered value can contain as such.
LIST_PLACE = "\x00pipeledger: the list rendered in pieces\x00"
PER_CHUNK = 500


def dumps_in_chunks(
    frame: Mapping[str, Any] | str,
    items: Iterable[Any],
    *,
    sort_keys: bool = False,
    per_chunk: int = PER_CHUNK,
) -> Iterator[str]:
    """``json.dumps(document, indent=2, sort_keys=sort_keys) + "\\n"`` in pieces, where
    ``document`` is ``frame`` with its one ``LIST_PLACE`` value replaced by ``list(items)``
    (a ``frame`` that is ``LIST_PLACE`` itself is a document that is the list)."""
    text = json.dumps(frame, indent=2, sort_keys=sort_keys)
    head, place, tail = text.partition(json.dumps(LIST_PLACE))
    if not place:
        raise ValueError("the frame has no LIST_PLACE for the list")
    line = head[head.rfind("\n") + 1 :]
    depth = len(line) - len(line.lstrip(" "))
    pad = "\n" + " " * (depth + 2)
    yield head
    pieces: list[str] = []
    count = 0
    for item in items:
        rendered = json.dumps(item, indent=2, sort_keys=sort_keys)
        # JSON strings hold no raw line breaks: every one here is the layout's own.
        pieces.append(("[" if count == 0 else ",") + pad + rendered.replace("\n", pad))
        count += 1
        if count % per_chunk == 0:
            yield "".join(pieces)
            pieces = []
    closing = "\n" + " " * depth + "]" if count else "[]"
    yield "".join(pieces) + closing + tail + "\n"
