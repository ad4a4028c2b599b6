"""JSON in pieces is byte for byte the JSON of the whole, wherever the list sits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeledger.report._json_chunks import LIST_PLACE, dumps_in_chunks

SCALARS = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _place(frame: Any, path: list[str], value: Any) -> Any:
    """``frame`` with ``value`` at ``path`` (keys of nested objects)."""
    if not path:
        return value
    inner = frame.get(path[0]) if isinstance(frame, dict) else None
    return {**frame, path[0]: _place(inner if isinstance(inner, dict) else {}, path[1:], value)}


@settings(max_examples=200, deadline=None)
@given(
    frame=st.dictionaries(st.text(), VALUES, max_size=4),
    path=st.lists(st.text(min_size=1), min_size=1, max_size=3),
    items=st.lists(VALUES, max_size=7),
    sort_keys=st.booleans(),
    per_chunk=st.integers(min_value=1, max_value=4),
)
def test_the_pieces_join_to_the_whole(
    frame: dict[str, Any], path: list[str], items: list[Any], sort_keys: bool, per_chunk: int
) -> None:
    whole = json.dumps(_place(frame, path, items), indent=2, sort_keys=sort_keys) + "\n"
    pieces = list(
        dumps_in_chunks(
            _place(frame, path, LIST_PLACE), iter(items), sort_keys=sort_keys, per_chunk=per_chunk
        )
    )
    assert "".join(pieces) == whole
    assert len(pieces) == 2 + len(items) // per_chunk


@given(items=st.lists(VALUES, max_size=5))
def test_a_document_that_is_the_list(items: list[Any]) -> None:
    whole = json.dumps(items, indent=2) + "\n"
    assert "".join(dumps_in_chunks(LIST_PLACE, items, per_chunk=2)) == whole


def test_a_frame_without_the_place_is_refused() -> None:
    with pytest.raises(ValueError, match="LIST_PLACE"):
        list(dumps_in_chunks({"findings": []}, []))
