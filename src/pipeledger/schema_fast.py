"""A fast yes for documents that are valid, so the common path never imports ``jsonschema``.

``certainly_valid(instance, schema)`` is True only when ``jsonschema``'s
``Draft202012Validator(schema)`` (no format checker, as the loaders use it) would report no
error. It interprets the schema itself — the same bundled file, no second copy of the rules —
for the keywords the project's schemas use, each with ``jsonschema``'s own semantics. Whatever
it is not sure about (a keyword it does not know, a remote ``$ref``, a value that is not plain
JSON such as a date YAML read, ``true`` compared with ``1``…) makes it answer False, and the
caller then runs ``jsonschema``, which also words the errors. So a False costs time, never a
different verdict; only a True skips ``jsonschema``, and a True is given only when certain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# Keywords that never make an instance invalid (annotations; ``format`` asserts nothing
# without a format checker, and ``$defs`` is only reached through ``$ref``).
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "default",
        "examples",
        "format",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)


class _Unsure(Exception):
    """The answer needs ``jsonschema``."""


def schema_errors(instance: Any, schema: Mapping[str, Any]) -> list[ValidationError]:
    """``jsonschema``'s errors for ``instance`` (Draft 2020-12, no format checker); none,
    without importing ``jsonschema``, when :func:`certainly_valid` can say so."""
    if certainly_valid(instance, schema):
        return []
    import jsonschema

    return list(jsonschema.Draft202012Validator(schema).iter_errors(instance))


def certainly_valid(instance: Any, schema: Mapping[str, Any] | bool) -> bool:
    """True only if ``jsonschema`` would find ``instance`` valid under ``schema``."""
    try:
        _one_resource(schema, top=True)
        return _Checker(schema).valid(instance, schema)
    except (_Unsure, RecursionError, TypeError, AttributeError, KeyError, re.error):
        return False  # unsure, or a schema this reader cannot follow: jsonschema decides


def _one_resource(schema: Any, *, top: bool = False) -> None:
    """Every ``#/…`` reference resolves against the root only when no subschema starts a
    resource of its own (``$id``) or names an anchor; otherwise leave it to jsonschema."""
    if isinstance(schema, dict):
        if not top and _RESOURCE_KEYWORDS & schema.keys():
            raise _Unsure
        for value in schema.values():
            _one_resource(value)
    elif isinstance(schema, list):
        for value in schema:
            _one_resource(value)


_RESOURCE_KEYWORDS = frozenset(
    {"$id", "$schema", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$vocabulary"}
)


class _Checker:
    def __init__(self, root: Mapping[str, Any] | bool) -> None:
        self.root = root

    def valid(self, instance: Any, schema: Any) -> bool:
        """The exact verdict of ``schema`` on ``instance``; raises _Unsure where unsure."""
        if schema is True:
            return True
        if schema is False:
            return False
        if not isinstance(schema, dict):
            raise _Unsure
        if not schema.keys() <= _KNOWN:  # before any verdict: a keyword may change another's
            raise _Unsure
        for keyword, value in schema.items():
            check = _KEYWORDS.get(keyword)
            if check is not None and not check(self, value, instance, schema):
                return False
        return True

    def resolve(self, ref: Any) -> Any:
        """A ``#/…`` pointer into the root schema; anything else is left to jsonschema."""
        if not isinstance(ref, str) or not ref.startswith("#/") or "%" in ref:
            raise _Unsure
        node: Any = self.root
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                raise _Unsure
            node = node[key]
        return node


_PLAIN_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}
# Values of which every type question has a certain answer.
_PLAIN_VALUES = (dict, list, str, bool, int, float, type(None))


def _is_type(instance: Any, name: str) -> bool:
    """``jsonschema``'s draft 2020-12 type checker, where the answer is certain: a boolean is
    no number, an integer may be a float without a fraction (1.0)."""
    if not isinstance(instance, _PLAIN_VALUES):
        raise _Unsure  # Decimal, a date, a subclass…: left to jsonschema's checker
    if name in _PLAIN_TYPES:
        return isinstance(instance, _PLAIN_TYPES[name])
    if name not in ("integer", "number"):
        raise _Unsure  # not a type name: jsonschema raises
    if isinstance(instance, bool):
        return False
    if isinstance(instance, float):
        return name == "number" or instance.is_integer()
    return isinstance(instance, int)


def _number(instance: Any) -> bool:
    """Whether a numeric keyword applies (it ignores what is not a number)."""
    return _is_type(instance, "number")


def _same(instance: Any, expected: Any) -> bool:
    """``jsonschema``'s equality for the plain values where it is ``==``: strings, None and
    non-boolean numbers (``true`` is not ``1`` there; such pairs are left to it)."""
    for value in (instance, expected):
        if value is not None and type(value) not in (str, int, float):
            raise _Unsure
    return bool(instance == expected)


def _type(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    names = value if isinstance(value, list) else [value]
    return any(_is_type(instance, name) for name in names)


def _const(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return _same(instance, value)


def _enum(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if not isinstance(value, list):
        raise _Unsure
    return any(_same(instance, option) for option in value)


def _required(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if not isinstance(instance, dict):
        return True
    return all(name in instance for name in value)


def _properties(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if not isinstance(instance, dict):
        return True
    return all(c.valid(instance[name], sub) for name, sub in value.items() if name in instance)


def _additional(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if not isinstance(instance, dict):
        return True
    if "patternProperties" in schema:
        raise _Unsure
    known = schema.get("properties", {})
    return all(c.valid(item, value) for key, item in instance.items() if key not in known)


def _property_names(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if not isinstance(instance, dict):
        return True
    return all(c.valid(key, value) for key in instance)


def _items(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if not isinstance(instance, list):
        return True
    if "prefixItems" in schema:
        raise _Unsure
    return all(c.valid(item, value) for item in instance)


def _min_items(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return not isinstance(instance, list) or len(instance) >= value


def _unique_items(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if value is False or not isinstance(instance, list):
        return True
    if value is not True:
        raise _Unsure
    if not all(isinstance(item, str) for item in instance):
        raise _Unsure
    return len(set(instance)) == len(instance)


def _minimum(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return not _number(instance) or instance >= value


def _maximum(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return not _number(instance) or instance <= value


def _exclusive_minimum(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return not _number(instance) or instance > value


def _min_length(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return not isinstance(instance, str) or len(instance) >= value


def _pattern(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return not isinstance(instance, str) or re.search(value, instance) is not None


def _ref(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return c.valid(instance, c.resolve(value))


def _all_of(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return all(c.valid(instance, sub) for sub in value)


def _if(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if c.valid(instance, value):
        return c.valid(instance, schema.get("then", True))
    return c.valid(instance, schema.get("else", True))


def _then_else(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    return True  # judged with ``if``; without ``if`` they do nothing


def _unevaluated(c: _Checker, value: Any, instance: Any, schema: Any) -> bool:
    if not isinstance(instance, dict):
        return True
    evaluated = _evaluated_keys(c, instance, schema, top=True)
    return all(c.valid(item, value) for key, item in instance.items() if key not in evaluated)


def _evaluated_keys(
    c: _Checker, instance: dict[Any, Any], schema: Any, *, top: bool = False
) -> set[Any]:
    """The keys ``jsonschema`` counts as evaluated, for schemas made of ``$ref`` and
    ``properties`` (and keywords that evaluate no key); anything else is left to it. The
    schema's own ``unevaluatedProperties`` changes no verdict: a key it would count is one
    it accepts."""
    if isinstance(schema, bool):
        return set()
    if not isinstance(schema, dict):
        raise _Unsure
    evaluating = _EVALUATING if top else _EVALUATING | {"unevaluatedProperties"}
    if evaluating & schema.keys():
        raise _Unsure
    keys: set[Any] = set()
    if "$ref" in schema:
        keys |= _evaluated_keys(c, instance, c.resolve(schema["$ref"]))
    if isinstance(schema.get("properties"), dict):
        keys |= schema["properties"].keys() & instance.keys()
    return keys


_EVALUATING = frozenset(
    {
        "additionalProperties",
        "patternProperties",
        "dependentSchemas",
        "allOf",
        "anyOf",
        "oneOf",
        "if",
        "then",
        "else",
        "$dynamicRef",
    }
)

_KEYWORDS = {
    "type": _type,
    "const": _const,
    "enum": _enum,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "items": _items,
    "minItems": _min_items,
    "uniqueItems": _unique_items,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "minLength": _min_length,
    "pattern": _pattern,
    "$ref": _ref,
    "allOf": _all_of,
    "if": _if,
    "then": _then_else,
    "else": _then_else,
    "unevaluatedProperties": _unevaluated,
}
_KNOWN = _ANNOTATIONS | _KEYWORDS.keys()
