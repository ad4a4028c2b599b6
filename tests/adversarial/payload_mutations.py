"""Hostile values and the loader of GitHub's official REST schemas for property-based fuzzing.

The schemas are GitHub's own (``tests/fixtures/github/schemas``, MIT, see that folder's
SOURCE.md). Their ``$ref`` s to other components are not vendored: a reference to a user becomes
a minimal user object (``login``, ``id``, ``type``), any other reference any JSON value at all —
which is more hostile than the real component, not less. OpenAPI's ``nullable`` becomes a JSON
Schema ``null`` type.
"""

from __future__ import annotations

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


def github_schema(name: str) -> dict[str, Any]:
    schema = json.loads(fixture("github", "schemas", name).read_text(encoding="utf-8"))
    resolved: dict[str, Any] = _resolved(schema)
    return resolved


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
    """A payload with up to three of its fields (nested ones included) made hostile."""
    payload = draw(base)
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
