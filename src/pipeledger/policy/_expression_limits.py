"""JMESPath conditions within bounds: a policy file must not be able to crash or stall the
gate with a condition built for it.

JMESPath's parser and interpreter recurse once per level of nesting, so ``!!!!…a`` or
``((((…))))`` a few thousand deep raises RecursionError (a traceback, exit 1, before this
check). A condition is refused (exit 2, naming the rule's line) when it is longer than
:data:`MAX_CHARS` characters or nests more than :data:`MAX_DEPTH` levels; real conditions
are a line or two and a handful of levels.
"""

from __future__ import annotations

from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult

MAX_CHARS = 4_000
MAX_DEPTH = 50


class ConditionProblem(Exception):
    """What is wrong with a condition, and what to write instead."""

    def __init__(self, message: str, remedy: str) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy


SIMPLER = (
    "Split it into several rules, or name the parts you test (e.g. approvals[?action=='approved']"
    " once, then length(...)); see https://jmespath.org/specification.html."
)


def compile_condition(condition: str) -> ParsedResult:
    """The compiled condition; raises ConditionProblem for one out of bounds or invalid."""
    if len(condition) > MAX_CHARS:
        raise ConditionProblem(
            f"the condition is {len(condition):,} characters long; at most {MAX_CHARS:,} are"
            " allowed",
            SIMPLER,
        )
    try:
        compiled = jmespath.compile(condition)
    except RecursionError:
        raise ConditionProblem(
            f"the condition nests more than {MAX_DEPTH} levels deep", SIMPLER
        ) from None
    except jmespath.exceptions.JMESPathError as error:
        raise ConditionProblem(
            f"the condition is not valid JMESPath: {_first_line(error)}",
            "Quote string literals with backquotes or single quotes, e.g."
            " \"deployer.type != 'bot'\"; see https://jmespath.org/specification.html.",
        ) from None
    depth = tree_depth(compiled.parsed)
    if depth > MAX_DEPTH:
        raise ConditionProblem(
            f"the condition nests {depth} levels deep; at most {MAX_DEPTH} are allowed", SIMPLER
        )
    return compiled


def tree_depth(tree: Any) -> int:
    """Levels of the parsed expression, counted without recursing, including the JSON
    values of literals (which the interpreter compares recursively)."""
    deepest = 0
    stack: list[tuple[Any, int, bool]] = [(tree, 1, True)]
    while stack:
        node, depth, is_expression = stack.pop()
        deepest = max(deepest, depth)
        if is_expression and isinstance(node, dict):
            stack.extend((child, depth + 1, True) for child in node.get("children") or [])
            if node.get("type") == "literal":
                stack.append((node.get("value"), depth + 1, False))
        elif isinstance(node, dict):
            stack.extend((value, depth + 1, False) for value in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1, False) for item in node)
    return deepest


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
