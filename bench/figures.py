"""The headline figures of ``make bench``, each printed next to the figure of the previous
recorded run and to the limit it is measured against.

A benchmark calls :func:`figure` for each headline figure; ``bench/run.py`` calls
:func:`save` after each benchmark, which writes this run's figures over the previous ones in
``bench/figures.json`` (a figure this run did not measure keeps its previous value). Commit
that file with the BENCHMARKS.md figures it backs, so the next run compares against them.
The record says when and at what load each figure was taken: CPU figures on a shared machine
vary by tens of percent, so a change is read against the previous figure *and* its load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

RECORD = Path(__file__).with_name("figures.json")


@dataclass(frozen=True)
class Limit:
    """What a figure is measured against: at least or at most ``value``, and where the
    limit comes from."""

    value: float
    at_most: bool
    source: str = "issue 13"

    def met(self, figure: float) -> bool:
        return figure <= self.value if self.at_most else figure >= self.value

    def describe(self) -> str:
        return f"{'<=' if self.at_most else '>='} {shown(self.value)} ({self.source})"


def at_most(value: float, source: str = "issue 13") -> Limit:
    return Limit(value, at_most=True, source=source)


def at_least(value: float, source: str = "issue 13") -> Limit:
    return Limit(value, at_most=False, source=source)


_measured: dict[str, dict[str, Any]] = {}


def figure(key: str, value: float, unit: str, limit: Limit | None = None) -> None:
    """Print ``key``'s figure with the previous run's and the limit's verdict; keep it for
    :func:`save`."""
    parts = [f"  [figure] {key}: {_amount(value, unit)}"]
    before = previous().get(key)
    if before is not None:
        change = _change(before["value"], value)
        parts.append(
            f"previous {_amount(before['value'], unit)}{change}"
            f" ({before['measured_at']}, load {before['load']:.1f})"
        )
    else:
        parts.append("no previous figure")
    if limit is not None:
        parts.append(f"limit {limit.describe()}: {'met' if limit.met(value) else 'NOT met'}")
    print(" | ".join(parts), flush=True)
    _measured[key] = {
        "value": value if isinstance(value, int) else float(f"{value:.6g}"),
        "unit": unit,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": round(os.getloadavg()[0], 2),
        **({"limit": limit.describe()} if limit is not None else {}),
    }


def previous(record: Path | None = None) -> dict[str, dict[str, Any]]:
    """The recorded figures by key as they stood when this run first looked (read once: a
    figure is compared with the previous run's, not with one this run saved)."""
    return _recorded(record or RECORD)


@cache
def _recorded(path: Path) -> dict[str, dict[str, Any]]:
    """The figures in the record; none when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(record: Path | None = None) -> None:
    """Write this run's figures over the recorded ones."""
    if not _measured:
        return
    path = record or RECORD
    merged = {**previous(path), **_measured}
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def shown(value: float) -> str:
    """A figure as a person reads it: thousands grouped, four significant digits below."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _amount(value: float, unit: str) -> str:
    return f"{shown(value)} {unit}".rstrip()


def _change(before: float, now: float) -> str:
    if before == 0:
        return ""
    return f", now {(now - before) / before:+.1%}"
