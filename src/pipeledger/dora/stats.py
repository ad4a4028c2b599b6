"""Median and nearest-rank percentiles of durations, in seconds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any


def nearest_rank(values: Sequence[float], percent: float) -> float | None:
    """The smallest value with at least ``percent`` % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Count, median (mean of the middle two for an even count) and p90 (nearest rank)."""
    return {
        "count": len(values),
        "median_seconds": statistics.median(values) if values else None,
        "p90_seconds": nearest_rank(values, 90),
    }


def human(seconds: float | None) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``40 min``, or ``n/a`` when there is no value."""
    if seconds is None:
        return "n/a"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"
