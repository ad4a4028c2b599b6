"""YAML loading with budgets, for policy and config files someone else may have written.

PyYAML's safe loader refuses tags that run code, but not the other two ways a small file can
take a run down: an alias bomb ("billion laughs": 600 bytes of anchors that expand to
gigabytes once every alias is copied out) and nesting deep enough to exhaust Python's stack
(``[[[[…`` raises RecursionError). The loader here counts while it composes, before anything
is expanded:

- nesting deeper than :data:`MAX_DEPTH` levels,
- more than :data:`MAX_ALIASES` aliases,
- more than :data:`MAX_NODES` values once every alias is counted as the copy it becomes,
- an alias inside its own anchor (a recursive structure),
- a document over :data:`MAX_BYTES`.

Each raises :class:`YamlLimitExceeded` (a ``MarkedYAMLError``) at the line and column where
the budget ran out; the callers turn it into exit 2 naming that position.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent

MAX_DEPTH = 64
MAX_ALIASES = 1_000
MAX_NODES = 100_000
MAX_BYTES = 2 * 1024 * 1024


class YamlLimitExceeded(yaml.MarkedYAMLError):
    """The document is beyond what a policy or config file needs; nothing was expanded."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)

    @property
    def line(self) -> int:
        return self.problem_mark.line + 1 if self.problem_mark is not None else 1

    @property
    def column(self) -> int:
        return self.problem_mark.column + 1 if self.problem_mark is not None else 1


class LimitedComposer:
    """Mixed into a PyYAML loader before ``yaml.SafeLoader``: composes with the budgets."""

    def __init__(self, stream: Any) -> None:
        if isinstance(stream, str | bytes) and len(stream) > MAX_BYTES:
            raise YamlLimitExceeded(
                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB", None
            )
        super().__init__(stream)  # type: ignore[call-arg]
        self._depth = 0
        self._aliases = 0
        self._values = 0
        self._open_anchors: set[str] = set()
        self._sizes: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            self._count_alias(str(event.anchor), mark)
            return super().compose_node(parent, index)  # type: ignore[misc]
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlLimitExceeded(f"values are nested more than {MAX_DEPTH} levels deep", mark)
        self._add_values(1, mark)
        anchor = getattr(event, "anchor", None)
        collection = isinstance(event, SequenceStartEvent | MappingStartEvent)
        if anchor and collection:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1
            if anchor and collection:
                self._open_anchors.discard(anchor)

    def _count_alias(self, anchor: str, mark: yaml.Mark) -> None:
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise YamlLimitExceeded(f"more than {MAX_ALIASES} aliases (*name)", mark)
        if anchor in self._open_anchors:
            raise YamlLimitExceeded(f"the alias *{anchor} refers to its own anchor", mark)
        node = self.anchors.get(anchor)  # type: ignore[attr-defined]
        if node is None:  # an undefined alias is PyYAML's own error
            return
        size, depth = self._measure(node)
        if self._depth + depth > MAX_DEPTH:
            raise YamlLimitExceeded(
                f"values are nested more than {MAX_DEPTH} levels deep once *{anchor} is expanded",
                mark,
            )
        self._add_values(size, mark)

    def _add_values(self, count: int, mark: yaml.Mark) -> None:
        self._values += count
        if self._values > MAX_NODES:
            raise YamlLimitExceeded(
                f"more than {MAX_NODES:,} values once aliases are expanded (an alias bomb?)",
                mark,
            )

    def _measure(self, node: yaml.Node) -> tuple[int, int]:
        """Values in ``node`` and its depth with every alias inside it copied out. Memoized,
        and every alias inside was measured when it was composed, so this stays shallow."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        measured = [self._measure(child) for child in children]
        result = (1 + sum(s for s, _ in measured), 1 + max((d for _, d in measured), default=0))
        self._sizes[id(node)] = result
        return result


class LimitedSafeLoader(LimitedComposer, yaml.SafeLoader):
    """``yaml.SafeLoader`` with the budgets."""


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with the budgets."""
    loader = LimitedSafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
