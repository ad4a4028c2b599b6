"""Counts over a sliding look-back: what a baseline knows at one moment, kept in memory that
grows with the look-back window, not with the ledger."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from datetime import datetime, timedelta


class SlidingCounts:
    """Items seen in the last ``span``, counted along one or more dimensions (e.g. hour of
    day and weekday). Items must be added in time order."""

    def __init__(self, span: timedelta, dimensions: int = 1) -> None:
        self.span = span
        self.items: deque[tuple[datetime, tuple[Hashable, ...]]] = deque()
        # Plain dicts: Counter's ``+=`` goes through Python-level __missing__, several times
        # slower on this path.
        self.counts: list[dict[Hashable, int]] = [{} for _ in range(dimensions)]

    def __len__(self) -> int:
        return len(self.items)

    def advance(self, now: datetime) -> None:
        """Forget what is older than the look-back at ``now``."""
        horizon = now - self.span
        items, counts = self.items, self.counts
        while items and items[0][0] < horizon:
            _, keys = items.popleft()
            for counter, key in zip(counts, keys, strict=True):
                left = counter[key] - 1
                if left:
                    counter[key] = left
                else:
                    del counter[key]

    def add(self, when: datetime, *keys: Hashable) -> None:
        self.items.append((when, keys))
        for counter, key in zip(self.counts, keys, strict=True):
            counter[key] = counter.get(key, 0) + 1

    def count(self, key: Hashable, dimension: int = 0) -> int:
        return self.counts[dimension].get(key, 0)

    def oldest(self) -> datetime | None:
        return self.items[0][0] if self.items else None
