"""Text from a server or a payload, made safe to print.

A terminal obeys escape sequences and a CI log obeys workflow commands: an API message
``"oops\\n::stop-commands::x"`` written as-is would switch off GitHub's command processing (and
with it secret masking), and ``"\\x1b]0;...\\x07"`` would retitle the terminal. So control
characters, ANSI escapes, Unicode bidirectional overrides and line separators are shown as
visible escapes (``\\x1b``), and lines that would start a workflow command are defused.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates,
# and lone surrogates (which cannot even be encoded to UTF-8).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
_UNSAFE_KEEPING_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
# A GitHub Actions workflow command is a line starting (after blanks) with "::"; the runner's
# older syntax "##[command]" is recognised anywhere in a line.
_COMMAND_LINE = re.compile(r"^(\s*)(::)", re.MULTILINE)
_OLD_COMMAND = "##["
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str, limit: int = 300) -> str:
    """Untrusted text for inside a message: one line, every control character visible,
    no workflow command, at most ``limit`` characters."""
    safe = _UNSAFE.sub(_visible, text).replace(_OLD_COMMAND, "## [")
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def terminal_safe(text: str) -> str:
    """Whole output (several lines) for a terminal or CI log: line breaks and tabs stay,
    every other control character becomes visible, and a line that would be read as a
    workflow command is prefixed with a backslash."""
    return defuse_commands(_UNSAFE_KEEPING_LINES.sub(_visible, text))


def defuse_commands(text: str) -> str:
    """Only the workflow-command part of :func:`terminal_safe`, for output in a format of
    its own (XML, JSON) whose characters must stay as they are."""
    return _COMMAND_LINE.sub(r"\1\\\2", text.replace(_OLD_COMMAND, "## ["))
