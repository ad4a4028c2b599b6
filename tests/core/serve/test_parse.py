"""Delivery bodies are parsed by orjson for speed, by the standard library where orjson is
stricter, and refused (400) only when neither reads a JSON object."""

from __future__ import annotations

import json

import pytest

from pipeledger.serve._app import _parse
from pipeledger.serve.receiver import MalformedDelivery


def test_an_ordinary_body_is_parsed() -> None:
    body = json.dumps({"action": "completed", "workflow_run": {"id": 7, "name": "CI"}}).encode()
    assert _parse(body) == {"action": "completed", "workflow_run": {"id": 7, "name": "CI"}}


@pytest.mark.parametrize(
    "body",
    [
        b'{"head_commit": {"message": "broken emoji \\ud83d"}}',  # an escaped lone surrogate
        b'{"id": 18446744073709551615, "huge": [1e400]}',  # the largest 64-bit id; inf
        b'{"ratio": NaN}',
    ],
)
def test_what_only_the_standard_library_reads_is_still_accepted(body: bytes) -> None:
    assert _parse(body) == json.loads(body)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b""])
def test_what_is_no_json_object_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        _parse(body)
