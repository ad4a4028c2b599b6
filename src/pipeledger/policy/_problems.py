"""Turns JSON Schema errors into what a person can act on: where, what is wrong, what to
write instead."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeledger.policy._yamlpos import escape_token

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_JSON_TYPES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a mapping",
    type(None): "nothing (null)",
}
_EXPECTED = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a mapping (key: value lines)",
    "boolean": "true or false",
}


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    pointer: str
    message: str
    remedy: str

    def render(self, path: str) -> str:
        where = self.pointer or "/"
        return f"{path}:{self.line}: at {where}: {self.message}. {self.remedy}"


def pointer_of(path: Sequence[Any]) -> str:
    return "".join(f"/{escape_token(str(part))}" for part in path)


def describe(error: ValidationError, root: Mapping[str, Any]) -> tuple[str, str, str]:
    """``(pointer, message, remedy)`` for one schema error; ``root`` resolves local refs."""
    pointer = pointer_of(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required":
        schema = {**schema, "properties": _resolved(schema.get("properties", {}), root)}
    hint = str(schema.get("description") or "")
    handler = _HANDLERS.get(str(error.validator))
    if handler is not None:
        return handler(error, pointer, schema, hint)
    return pointer, error.message, f"Write {hint}." if hint else "See policy.v1.schema.json."


def _resolved(properties: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """Property schemas with a local ``$ref`` replaced by what it points to."""
    resolved: dict[str, Any] = {}
    for name, sub in properties.items():
        ref = sub.get("$ref", "") if isinstance(sub, Mapping) else ""
        if ref.startswith("#/$defs/"):
            resolved[name] = {**root["$defs"].get(ref.removeprefix("#/$defs/"), {}), **sub}
        else:
            resolved[name] = sub
    return resolved


def _additional(
    error: ValidationError, pointer: str, schema: Any, hint: str
) -> tuple[str, str, str]:
    allowed = sorted(str(k) for k in schema.get("properties", {}))
    instance: Any = error.instance
    extras = sorted(str(k) for k in instance if str(k) not in allowed)
    key = extras[0] if extras else "?"
    close = difflib.get_close_matches(key, allowed, n=1)
    advice = f"Did you mean {close[0]!r}? " if close else ""
    return (
        f"{pointer}/{escape_token(key)}",
        f"unknown key {key!r}",
        f"{advice}Allowed here: {', '.join(allowed)}.",
    )


def _required(error: ValidationError, pointer: str, schema: Any, hint: str) -> tuple[str, str, str]:
    required: Any = error.validator_value
    present: Any = error.instance
    missing = [k for k in required if k not in present]
    key = missing[0] if missing else "?"
    sub = schema.get("properties", {}).get(key, {})
    what = sub.get("description") if isinstance(sub, Mapping) else None
    return pointer, f"the key {key!r} is missing", f"Add {key}: {what or '...'}."


def _enum(error: ValidationError, pointer: str, schema: Any, hint: str) -> tuple[str, str, str]:
    values: Any = error.validator_value
    options = [str(v) for v in values]
    close = difflib.get_close_matches(str(error.instance), options, n=1)
    advice = f"Did you mean {close[0]!r}? " if close else ""
    return (
        pointer,
        f"{error.instance!r} is not allowed here",
        f"{advice}Write one of: {', '.join(options)}.",
    )


def _const(error: ValidationError, pointer: str, schema: Any, hint: str) -> tuple[str, str, str]:
    wanted = json.dumps(error.validator_value)
    return pointer, f"{error.instance!r} is not supported", f"Write {wanted}."


def _type(error: ValidationError, pointer: str, schema: Any, hint: str) -> tuple[str, str, str]:
    expected: Any = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(_EXPECTED.get(n, n) for n in names)
    got = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
    shown = "" if isinstance(error.instance, dict | list) else f" ({_short(error.instance)})"
    message = f"expected {wanted}, got {got}{shown}"
    remedy = f"Write {hint}." if hint else f"Write {wanted}."
    if "string" in names and isinstance(error.instance, int | float | bool):
        # YAML reads 06:00 as 360 (base 60) and yes/on as true: quotes keep text as text.
        remedy = f"Put the value in quotes. {remedy}"
    return pointer, message, remedy


def _pattern(error: ValidationError, pointer: str, schema: Any, hint: str) -> tuple[str, str, str]:
    return (
        pointer,
        f"{error.instance!r} is not in the expected form",
        f"Write {hint or 'a valid value'}.",
    )


def _min_items(
    error: ValidationError, pointer: str, schema: Any, hint: str
) -> tuple[str, str, str]:
    return pointer, "the list is empty", f"Add at least one item: {hint or 'see the schema'}."


def _min_length(
    error: ValidationError, pointer: str, schema: Any, hint: str
) -> tuple[str, str, str]:
    return pointer, "the value is empty", f"Write {hint or 'a value'}."


def _bound(error: ValidationError, pointer: str, schema: Any, hint: str) -> tuple[str, str, str]:
    side = "at least" if error.validator == "minimum" else "at most"
    return pointer, f"{error.instance!r} is out of range", f"Write {side} {error.validator_value}."


def _unique(error: ValidationError, pointer: str, schema: Any, hint: str) -> tuple[str, str, str]:
    return pointer, "the list repeats an item", "List each item once."


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


_HANDLERS = {
    "additionalProperties": _additional,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "type": _type,
    "pattern": _pattern,
    "minItems": _min_items,
    "minLength": _min_length,
    "minimum": _bound,
    "maximum": _bound,
    "uniqueItems": _unique,
}
