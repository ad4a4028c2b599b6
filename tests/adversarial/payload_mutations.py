"""Hostile values and the loaders of GitHub's official REST schemas for property-based fuzzing.

The schemas are GitHub's own, as the npm package ``@octokit/openapi`` ships them
(``tests/fixtures/octokit-openapi``, MIT, dereferenced). A ``$ref`` left in a schema (none
is, today) becomes a minimal user object (``login``, ``id``, ``type``) or any JSON value at
all, which is more hostile than the real component, not less. OpenAPI's ``nullable``
becomes a JSON Schema ``null`` type.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from tests.paths import fixture

USER = {
    "type": "object",
    "properties": {
        "login": {"type": "string"},
        "id": {"type": "integer"},
        "type": {"type": "string"},
    },
    "required": ["login", "id"],
}

# Values that broke collect before (issue 15) and their relatives.
HOSTILE: list[Any] = [
    "\ud800",
    "a\udfffb",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z",
    "2026-13-45T99:99:99Z",
    "",
    " ",
    "\n::error::x",
    "\x1b[31mred",
    "not a url",
    "javascript:alert(1)",
    "/",
    "../../etc",
    0,
    -1,
    2**63,
    1.5e308,
    float("nan"),
    True,
    None,
    [],
    {},
    ["completed"],
    {"login": {"nested": True}},
    "x" * 10_000,
]


def _resolved(node: Any) -> Any:
    if isinstance(node, list):
        return [_resolved(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return USER if node["$ref"].endswith("simple-user") else {}
    out = {k: _resolved(v) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def hostile_values() -> st.SearchStrategy[Any]:
    arbitrary = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )
    return st.sampled_from(HOSTILE) | arbitrary


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A payload with up to three of its fields (nested ones included) made hostile. The
    drawn payload is copied first: it may share objects with the strategy (an enum's or a
    constant's value), and changing those would make generation itself inconsistent."""
    payload = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(0, 3))):
        path = _paths(payload)
        if not path:
            break
        keys = draw(st.sampled_from(path))
        _set(payload, keys, draw(hostile_values()))
    return payload


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found += _paths(value, (*prefix, key))
    return found


def _set(node: Any, keys: tuple[Any, ...], value: Any) -> None:
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value


def octokit_schema(name: str) -> dict[str, Any]:
    """An item schema from ``@octokit/openapi`` (tests/fixtures/octokit-openapi, MIT), with
    OpenAPI's ``nullable`` read as JSON Schema. The descriptions are fully dereferenced; a
    large nested object (a run's repository, a pull request's head…) becomes a minimal user
    when it is one, else any JSON value at all: more hostile than the real one, and it keeps
    generation fast (hypothesis-jsonschema spends seconds on each 80-field repository)."""
    path = fixture("octokit-openapi", f"{name}.schema.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    top = {key: _pruned(value) for key, value in schema.items()}
    resolved: dict[str, Any] = _resolved(top)
    return resolved


NESTED_LIMIT = 1_500  # characters of a nested object's schema kept as it is


def _pruned(node: Any) -> Any:
    if isinstance(node, list):
        return [_pruned(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "properties" in node and len(json.dumps(node)) > NESTED_LIMIT:
        return USER if {"login", "id", "avatar_url"} <= set(node["properties"]) else {}
    # A URL is any string here: hypothesis-jsonschema builds each "uri" from a large regular
    # expression (seconds an example), and the normalizers must cope with any text anyway.
    return {
        key: _pruned(value)
        for key, value in node.items()
        if not (key == "format" and value in ("uri", "uri-template", "email"))
    }
