"""Parsing stored JSON (ledger bodies) and writing large documents (the evidence pack's
``data.json``): orjson when it is installed (``pip install 'pipeledger[fast]'``), the
standard library otherwise.

Both give the same values for everything pipeledger writes; only the speed differs (orjson
reads a ledger body about twice as fast). Documents orjson refuses and :mod:`json` accepts
(``NaN``, a number beyond a double's range) are parsed again by :mod:`json`. One difference
stays: orjson reads an integer beyond 64 bits as a float. Events never hold one where a
verdict looks (ids, numbers of runs and pull requests are far smaller).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

Loads = Callable[[str | bytes], Any]
Dumps = Callable[[Any], bytes]


def _orjson_loads() -> Loads | None:
    try:
        import orjson
    except ImportError:
        return None
    fast: Loads = orjson.loads

    def loads(text: str | bytes) -> Any:
        try:
            return fast(text)
        except orjson.JSONDecodeError:
            return json.loads(text)  # NaN, huge integers: raise or parse exactly as json does

    return loads


_FAST = _orjson_loads()


def parser_name() -> str:
    """``orjson`` or ``json``: which parser :func:`loads` uses (for ``make bench``)."""
    return "orjson" if _FAST is not None else "json"


# One JSON document (text, or UTF-8 bytes such as a request body); raises ValueError
# (json.JSONDecodeError, UnicodeDecodeError) when it is not one. The parser itself, not a
# function choosing it on every call: reading a ledger calls it once per record.
loads: Loads = _FAST if _FAST is not None else json.loads


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _orjson_dumps() -> Dumps | None:
    try:
        import orjson
    except ImportError:
        return None
    fast = orjson.dumps
    option = orjson.OPT_SORT_KEYS

    def dumps(value: Any) -> bytes:
        try:
            return fast(value, option=option)
        except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, a non-str key
            return _stdlib_dumps(value)

    return dumps


_FAST_DUMPS = _orjson_dumps()


def dumps_sorted(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON with sorted keys (about ten times faster with
    orjson); both encoders give the same values back to any JSON parser."""
    if _FAST_DUMPS is not None:
        return _FAST_DUMPS(value)
    return _stdlib_dumps(value)


class EncoderFallback(Exception):
    """orjson refused a piece of a document written in pieces: :func:`dumps_sorted` gives
    the standard library's bytes for the whole of such a document, so it is written again
    with ``fast=False``."""


PIECE_ITEMS = 64  # a dict or list with fewer items is encoded in one piece
PIECE_BYTES = 1 << 16  # pieces are gathered up to about this size before they are yielded


def dumps_sorted_chunks(document: Any, *, fast: bool = True) -> Iterator[bytes]:
    """``dumps_sorted(document)`` in pieces of about PIECE_BYTES, byte for byte (a Mapping
    in it taken as ``dict(mapping)``): compact JSON
    is the concatenation of its parts, so the top-level dict and every large dict or list in
    it is written item by item, and the whole text is never held. ``fast=False``: the
    standard library's encoder throughout (see :class:`EncoderFallback`, raised from the
    orjson one when orjson refuses a piece)."""
    if fast and _FAST_DUMPS is not None:
        option = _orjson_option()

        def encode(value: Any) -> bytes:
            import orjson

            try:
                return orjson.dumps(value, option=option)
            except TypeError:
                raise EncoderFallback from None

    else:
        encode = _stdlib_dumps
    pending: list[bytes] = []
    size = 0
    for piece in _pieces(document, encode, top=True):
        pending.append(piece)
        size += len(piece)
        if size >= PIECE_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _orjson_option() -> int:
    import orjson

    return int(orjson.OPT_SORT_KEYS)


def _pieces(value: Any, encode: Dumps, *, top: bool = False) -> Iterator[bytes]:
    # A Mapping that is no dict (one making its values when read) is written item by item
    # whatever its size: the encoders take dicts only.
    if isinstance(value, Mapping) and (
        top or len(value) >= PIECE_ITEMS or not isinstance(value, dict)
    ):
        if not all(isinstance(key, str) for key in value):
            yield encode(dict(value))  # keys json converts: encoded whole, as dumps_sorted does
            return
        yield b"{"
        for number, key in enumerate(sorted(value)):
            yield (b"," if number else b"") + encode(key) + b":"
            yield from _pieces(value[key], encode)
        yield b"}"
    elif isinstance(value, list) and len(value) >= PIECE_ITEMS:
        yield b"["
        for number, item in enumerate(value):
            if number:
                yield b","
            yield from _pieces(item, encode)
        yield b"]"
    else:
        yield encode(value)
