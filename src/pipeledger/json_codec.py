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
from collections.abc import Callable
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


def loads(text: str | bytes) -> Any:
    """One JSON document (text, or UTF-8 bytes such as a request body); raises ValueError
    (json.JSONDecodeError, UnicodeDecodeError) when it is not one."""
    if _FAST is not None:
        return _FAST(text)
    return json.loads(text)


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
