"""Where the tests find things: the repository root and the payloads kept in ``tests/fixtures``.

Every payload or schema a test reads lives in ``tests/fixtures/<origin>/…`` with a ``SOURCE.md``
(where it came from, version, date, licence). Nothing outside the repository is read; the
sandbox guard (:mod:`tests.sandbox`) fails any test that tries.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def fixture(*parts: str) -> Path:
    """The path of ``tests/fixtures/<parts…>``; fails loudly when it is not there."""
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"test fixture {path.relative_to(ROOT)} is missing: copy the official payload into "
            "tests/fixtures/<origin>/ and record where it came from in that origin's SOURCE.md"
        )
    return path
