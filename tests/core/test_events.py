from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from pipeledger.events import AuditEvent, Scope, canonical_json, event_id, parse_time
from tests.core.factories import make_event
from tests.paths import ROOT

SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
EXAMPLES = ROOT / "schemas" / "examples" / "event"


def test_round_trip_keeps_every_field() -> None:
    event = make_event(7, attributes={"workflow": "deploy"}, links={"html": "https://x.test/1"})
    again = AuditEvent.from_dict(json.loads(event.canonical_json()))
    assert again == event


def test_round_trip_keeps_every_field_when_each_is_set() -> None:
    """``from_dict`` sets each slot itself: one it forgot or mixed up shows here."""
    event = make_event(
        8,
        target={"login": "bob"},
        change={"from": "read", "to": "admin"},
        links={"html": "https://x.test/8"},
        attributes={"workflow": "deploy"},
        observed_at=datetime(2026, 2, 1, 12, 30, tzinfo=UTC),
        supersedes=("a" * 32, "b" * 32),
        scope=Scope(owner="acme", repository="web", environment="production"),
    )
    again = AuditEvent.from_dict(json.loads(event.canonical_json()))
    for name in AuditEvent.__slots__:
        assert getattr(again, name) == getattr(event, name), name
    assert again.source is not event.source and again.source == event.source


def test_names_that_repeat_across_parsed_events_are_kept_once() -> None:
    first, second = (json.loads(make_event(n).canonical_json()) for n in (1, 2))
    assert first["action"] is not second["action"]  # each parsed body brings its own copy
    one, two = AuditEvent.from_dict(first), AuditEvent.from_dict(second)
    for name in ("action", "platform", "instance", "ref"):
        assert getattr(one, name) is getattr(two, name), name
    assert one.source.endpoint is two.source.endpoint
    assert one.id is not two.id and one.sha == two.sha  # ids and commits are not shared
    assert one.links == {} and one.links is two.links is two.attributes  # one empty mapping
    odd = AuditEvent.from_dict({**first, "ref": 7})  # not a ledger's event: left as it is
    assert odd.ref == 7
    long_refs = [json.loads(json.dumps({**first, "ref": "r" * 5000})) for _ in range(2)]
    kept = [AuditEvent.from_dict(data).ref for data in long_refs]
    assert kept[0] == kept[1] and kept[0] is not kept[1]  # too long to be kept in the table


def test_serialized_event_matches_the_public_schema() -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(make_event(3).to_dict())]
    assert errors == []


def test_ids_are_deterministic_and_distinct() -> None:
    first = event_id("github", "github.com", "/runs/{id}", "1")
    assert first == event_id("github", "GitHub.com", "/runs/{id}", "1")
    assert first != event_id("github", "github.com", "/runs/{id}", "2")
    assert first != event_id("gitlab", "github.com", "/runs/{id}", "1")


def test_naive_or_non_utc_times_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC-aware"):
        make_event(1, occurred_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="UTC-aware"):
        make_event(1, occurred_at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))))


def test_parse_time_normalizes_offsets_to_utc() -> None:
    assert parse_time("2026-01-01T02:00:00+02:00") == parse_time("2026-01-01T00:00:00Z")
    with pytest.raises(ValueError):
        parse_time("2026-01-01T00:00:00")


def test_canonical_json_is_key_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == canonical_json(
        {"a": [1, {"c": 3, "d": 2}], "b": 1}
    )


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").glob("*.json")), ids=lambda p: p.name)
def test_valid_examples_pass_the_schema(path: Path) -> None:
    data = json.loads(path.read_text())
    VALIDATOR.validate(data)
    assert AuditEvent.from_dict(data).to_dict() == data


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "invalid").glob("*.json")), ids=lambda p: p.name
)
def test_invalid_examples_fail_the_schema(path: Path) -> None:
    assert not VALIDATOR.is_valid(json.loads(path.read_text()))


def test_example_folders_are_not_empty() -> None:
    assert len(list((EXAMPLES / "valid").glob("*.json"))) >= 3
    assert len(list((EXAMPLES / "invalid").glob("*.json"))) >= 5


def test_a_scope_names_its_repository_in_full_or_not_at_all() -> None:
    assert Scope("acme", "api").full_name == "acme/api"
    assert Scope("group/sub", "project").full_name == "group/sub/project"
    assert Scope("acme").full_name is None
