"""The event schema as an oracle: ``schemas/event.v1.schema.json`` with the ``uri`` and
``date-time`` formats checked, to hold what the event screen lets through to the schema."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from tests.paths import ROOT

SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text(encoding="utf-8"))
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and parts.scheme[0].isalpha()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


ORACLE = jsonschema.Draft202012Validator(SCHEMA, format_checker=FORMATS)


def schema_errors(event: dict[str, Any]) -> list[str]:
    """What is wrong with an event's JSON by the schema; empty when it is valid."""
    return [error.message for error in ORACLE.iter_errors(event)]
