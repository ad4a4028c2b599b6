"""The credentials this run actually holds: tokens it read or minted, the signing key, sink
passwords and keys.

Where a credential enters the process it is registered here with :func:`hold`. Everything
pipeledger prints is masked with these values as well as with every secret-looking
environment variable (:class:`pipeledger.redact.SecretMasker`); and only these are announced
to GitHub Actions with ``::add-mask::`` — not every secret that happens to be in the
environment, which would print all of them to a log stream.

A multi-line secret (a PEM key) is also looked for line by line, since logs are matched
line by line and a key may be printed in part.
"""

from __future__ import annotations

import threading

MIN_LENGTH = 4  # shorter values would mask ordinary words
MIN_LINE_LENGTH = 16  # the lines of a multi-line secret worth masking on their own

_held: set[str] = set()
_lock = threading.Lock()


def hold(value: str | None) -> str | None:
    """Register ``value`` as a credential of this run; returns it unchanged."""
    if value:
        pieces = secret_pieces(value)
        with _lock:
            _held.update(pieces)
    return value


def held() -> list[str]:
    """Every held credential and line of one, longest first."""
    with _lock:
        return sorted(_held, key=lambda piece: (-len(piece), piece))


def forget_all() -> None:
    """A new run (``main``) starts holding nothing."""
    with _lock:
        _held.clear()


def secret_pieces(value: str) -> list[str]:
    """What to look for of one secret: the value itself (and trimmed), and for a multi-line
    one each line of key material (not the ``-----BEGIN …-----`` armour, not short lines)."""
    pieces = {piece for piece in (value, value.strip()) if len(piece) >= MIN_LENGTH}
    text = value.replace("\\n", "\n")  # keys pasted into one line with literal \n
    if "\n" in text:
        lines = (line.strip() for line in text.splitlines())
        pieces.update(
            line for line in lines if len(line) >= MIN_LINE_LENGTH and not line.startswith("-----")
        )
    return sorted(pieces)


def single_line_pieces(values: list[str]) -> list[str]:
    """The pieces a line-based log masker can match: no piece with a line break."""
    return [piece for piece in values if "\n" not in piece and "\r" not in piece]
