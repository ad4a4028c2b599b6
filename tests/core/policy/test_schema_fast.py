"""``schema_fast.certainly_valid`` never says yes where ``jsonschema`` says no.

The loaders skip ``jsonschema`` when it answers True, so that is the property that keeps the
validation as strict as before: checked against every policy and config file the project
ships or tests with, against documents generated from the schemas (hypothesis-jsonschema),
and against those documents mutated in many small ways. On the valid files it must also say
yes, or the fast path would never be taken.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from pipeledger.config import schema_text
from pipeledger.schema_fast import certainly_valid

ROOT = Path(__file__).resolve().parents[3]
POLICY = json.loads(schema_text("policy.v1.schema.json"))
CONFIG = json.loads(schema_text("config.v1.schema.json"))
# Each rule type and section of the policy schema on its own (generating whole policies
# through the rule's if/then takes hypothesis-jsonschema seconds per example; it cannot
# resolve the anomalies section's references), and the config.
PARTS = (
    "require-approval",
    "require-review",
    "allowed-refs",
    "deploy-window",
    "actor",
    "permission-change",
    "protection-drift",
    "expression",
    "detector",
)
SCHEMAS = {
    **{name: {"$defs": POLICY["$defs"], **POLICY["$defs"][name]} for name in PARTS},
    "config": CONFIG,
}
EXAMPLES = int(os.environ.get("PIPELEDGER_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize="PIPELEDGER_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def jsonschema_valid(document: Any, schema: dict[str, Any]) -> bool:
    """The loaders' verdict: no error from Draft202012Validator (no format checker)."""
    return not any(jsonschema.Draft202012Validator(schema).iter_errors(document))


def agrees(document: Any, schema: dict[str, Any]) -> bool:
    """The fast yes is only ever given to what jsonschema accepts."""
    return not certainly_valid(document, schema) or jsonschema_valid(document, schema)


def policy_files() -> list[Path]:
    """The shipped and tested policies that are YAML (on the others the loader stops before
    the schema is asked)."""
    files = [*ROOT.glob("examples/policies/*.yml"), *ROOT.glob("schemas/examples/policy/*/*.yml")]
    return sorted(path for path in files if _parses(path))


def _parses(path: Path) -> bool:
    try:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return False
    return True


@pytest.mark.parametrize("path", policy_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_and_tested_policy_gets_the_same_verdict(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert certainly_valid(document, POLICY) == jsonschema_valid(document, POLICY)


def test_the_shipped_policies_take_the_fast_path() -> None:
    for path in ROOT.glob("examples/policies/*.yml"):
        assert certainly_valid(yaml.safe_load(path.read_text(encoding="utf-8")), POLICY), path


ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    1.5,
    -1,
    21,
    "",
    " ",
    "x",
    "a b",
    "prod*",
    "abc\n",
    "UPPER",
    "2026-12-24",
    [],
    [1],
    ["a", "a"],
    [True, 1],
    {},
    {"x": 1},
    {"enabled": 1},
]


def mutations(document: Any) -> list[Any]:
    """The document with one value (at any depth) replaced, one key removed or one key
    added: the small mistakes a person makes in a policy."""
    results: list[Any] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        for value in ODD_VALUES:
            results.append(replaced(document, path, value))
        if isinstance(node, dict):
            for key in list(node):
                results.append(removed(document, (*path, key)))
            results.append(replaced(document, (*path, "unknown_key"), 1))
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, index))

    walk(document, ())
    return results


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return copy.deepcopy(value)
    result = copy.deepcopy(document)
    node = result
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = copy.deepcopy(value)
    return result


def removed(document: Any, path: tuple[Any, ...]) -> Any:
    result = copy.deepcopy(document)
    node = result
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return result


@pytest.mark.parametrize("path", policy_files()[:12], ids=lambda p: p.name)
def test_mutated_policies_are_never_accepted_where_jsonschema_refuses(path: Path) -> None:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        pytest.skip("not YAML")
    for mutated in mutations(document)[:1500]:
        assert agrees(mutated, POLICY), mutated


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_generated_documents_get_the_same_verdict(name: str) -> None:
    schema = SCHEMAS[name]

    # hypothesis-jsonschema rewrites the schema it is given: hand it a copy.
    @FUZZ
    @given(from_schema(copy.deepcopy(schema)))
    def valid_ones(document: Any) -> None:
        assert certainly_valid(document, schema), document

    @FUZZ
    @given(from_schema(copy.deepcopy(schema)), st.data())
    def mutated_ones(document: Any, data: st.DataObject) -> None:
        variants = mutations(document)
        for mutated in data.draw(st.lists(st.sampled_from(variants), max_size=40)):
            assert agrees(mutated, schema), mutated

    valid_ones()
    mutated_ones()


def test_what_it_does_not_know_it_leaves_to_jsonschema() -> None:
    assert certainly_valid({"a": 1}, {"type": "object"})
    # A keyword it does not implement, even one that would accept the document.
    assert not certainly_valid({"a": 1}, {"type": "object", "minProperties": 1})
    # A subschema that starts its own resource: its #/ references mean something else.
    nested = {"$defs": {"x": {"$id": "other", "type": "object"}}, "$ref": "#/$defs/x"}
    assert not certainly_valid({}, nested)
    # A remote reference.
    assert not certainly_valid({}, {"$ref": "https://example.com/schema.json"})
    # true is not 1 to jsonschema; plain equality would say it is.
    assert not certainly_valid(True, {"const": 1})
    assert not certainly_valid([True, 1], {"uniqueItems": True})
    # Exact answers where it is sure.
    assert certainly_valid(1.0, {"type": "integer"})
    assert not certainly_valid(1.5, {"type": "integer"})
    assert not certainly_valid(True, {"type": "integer"})
    assert certainly_valid("abc\n", {"pattern": "^[a-z]+$"})  # re.search, as jsonschema
    assert not certainly_valid({"b": 1}, {"properties": {"a": True}, "additionalProperties": False})
