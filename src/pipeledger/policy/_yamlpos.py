"""Reads YAML into plain data while remembering the line of every JSON pointer, so a policy
error can say where to look.

Timestamps stay strings (the schema decides what a time is), and a key written twice in one
mapping is an error rather than a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from pipeledger.yaml_limits import LimitedComposer

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _PolicyLoader(LimitedComposer, yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type (``2026-12-24T00:00`` stays text), and
    with budgets against alias bombs and deep nesting (:mod:`pipeledger.yaml_limits`)."""


_PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class YamlProblem:
    line: int
    pointer: str
    message: str
    remedy: str


@dataclass
class LocatedDocument:
    """Plain data plus ``pointer -> line`` (1-based) for every node and mapping key."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)

    def line_of(self, pointer: str) -> int:
        """The line of the pointer, or of its nearest ancestor that has one."""
        current = pointer
        while current not in self.lines and current:
            current = current.rsplit("/", 1)[0]
        return self.lines.get(current, 1)


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def load_located(text: str) -> LocatedDocument:
    """Parse one YAML document; raises ``yaml.YAMLError`` for syntax errors."""
    loader = _PolicyLoader(text)
    try:
        node = loader.get_single_node()
        document = LocatedDocument(data=None)
        if node is not None:
            document.data = _convert(node, "", loader, document)
        return document
    finally:
        loader.dispose()


def _convert(node: yaml.Node, pointer: str, loader: _PolicyLoader, doc: LocatedDocument) -> Any:
    doc.lines[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, pointer, loader, doc)
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, f"{pointer}/{index}", loader, doc)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _convert_mapping(
    node: yaml.MappingNode, pointer: str, loader: _PolicyLoader, doc: LocatedDocument
) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        child = f"{pointer}/{escape_token(str(key))}"
        if key in result:
            doc.problems.append(
                YamlProblem(
                    line=key_node.start_mark.line + 1,
                    pointer=child,
                    message=f"the key {key!r} is written twice in the same mapping",
                    remedy="Keep one of them; YAML would silently use only the last.",
                )
            )
        doc.key_lines[child] = key_node.start_mark.line + 1
        result[key] = _convert(value_node, child, loader, doc)
    return result
