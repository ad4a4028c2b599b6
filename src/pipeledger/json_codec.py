"""Parsing stored JSON (ledger bodies): orjson when it is installed (``pip install
'pipeledger[fast]'``), the standard library otherwise.

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
