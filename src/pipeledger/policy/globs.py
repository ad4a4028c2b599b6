"""Glob lists compiled once into one regular expression, and the checks that catch a glob
that is really a typo or a regular expression."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable


class GlobSet:
    """Matches a name against any of several ``fnmatch`` globs; empty matches everything."""

    def __init__(self, patterns: Iterable[str] | None, *, ignore_case: bool = False) -> None:
        self.patterns = tuple(patterns or ())
        flags = re.IGNORECASE if ignore_case else 0
        joined = "|".join(f"(?:{fnmatch.translate(p)})" for p in self.patterns)
        self._regex = re.compile(joined, flags) if self.patterns else None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, name: str | None) -> bool:
        if self._regex is None:
            return True
        return name is not None and self._regex.match(name) is not None


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable glob, or None."""
    if pattern != pattern.strip():
        return "it starts or ends with a space"
    if pattern.startswith("^") or pattern.endswith("$") or ".*" in pattern or "\\" in pattern:
        return "it looks like a regular expression; globs use * and ?"
    if _unclosed_bracket(pattern):
        return "it has a [ without its closing ]"
    if "**" in pattern:
        return "** is not needed: * already matches across /"
    return None


def _unclosed_bracket(pattern: str) -> bool:
    depth = 0
    for char in pattern:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
    return depth > 0
