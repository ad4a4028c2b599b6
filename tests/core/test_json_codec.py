"""Stored bodies parse the same with orjson (the ``fast`` extra) and with the standard
library; the dev environment installs orjson, so both paths run here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeledger import json_codec
from pipeledger.ledger.chain import event_from_body
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import make_events

pytest.importorskip("orjson")

DOCUMENTS = (
    '{"a":1,"b":[true,false,null],"c":{"d":"é ✓ \\u0000"},"e":-0.5,"f":1e-7}',
    '{"big":1e400,"nan":NaN}',  # orjson refuses these; json reads them: the fallback
    '{"a":1,"a":2}',
)


def test_orjson_is_used_when_installed() -> None:
    assert json_codec.parser_name() == "orjson"


@pytest.mark.parametrize("text", DOCUMENTS)
def test_both_parsers_give_the_same_values(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = json_codec.loads(text)
    monkeypatch.setattr(json_codec, "_FAST", None)
    assert json_codec.parser_name() == "json"
    assert repr(json_codec.loads(text)) == repr(fast) == repr(json.loads(text))


@pytest.mark.parametrize("parser", ["orjson", "json"])
def test_invalid_json_is_a_value_error_either_way(
    parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parser == "json":
        monkeypatch.setattr(json_codec, "_FAST", None)
    with pytest.raises(ValueError):
        json_codec.loads('{"a":')


@pytest.mark.parametrize("parser", ["orjson", "json"])
def test_a_ledger_reads_and_verifies_the_same_with_either_parser(
    parser: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if parser == "json":
        monkeypatch.setattr(json_codec, "_FAST", None)
    ledger = SqliteSink(tmp_path / "l.db")
    events = make_events(25)
    ledger.append(events, {})
    assert [r.event for r in ledger.records(EventFilter())] == events
    assert [event_from_body(b.seq, b.body) for b in ledger.stored_bodies()] == events
    assert verify_rows(ledger.rows()).checked == 25
    ledger.close()


WRITTEN = (
    {"b": [1, 2.5, None, True], "a": {"z": "é ✓ \u0000 \u2028", "y": -0.5}, "c": ""},
    {"huge": 2**70, "n": 1},  # beyond 64 bits: orjson refuses, the standard library writes it
)


@pytest.mark.parametrize("value", WRITTEN)
def test_both_writers_give_the_same_values_with_sorted_keys(
    value: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = json_codec.dumps_sorted(value)
    monkeypatch.setattr(json_codec, "_FAST_DUMPS", None)
    plain = json_codec.dumps_sorted(value)
    assert json.loads(fast) == json.loads(plain) == value
    for written in (fast, plain):
        text = written.decode("utf-8")
        assert "é ✓" in text or "huge" in text  # UTF-8, not \u escapes
        keys = list(json.loads(text))
        assert keys == sorted(keys)
        assert ", " not in text and ": " not in text  # compact
