"""Progress from several worker threads, and when the collection will be done.

:class:`SharedProgress` passes each report to the display one at a time, remembers the rate
limit it was told about, and after every stored scope projects the finish time
(:func:`projected_finish`), which the display shows (``Progress.expect(finish_at=…)``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pipeledger.collect.progress import Progress, ProgressRelay


def projected_finish(
    *,
    now: float,
    elapsed: float,
    done: int,
    total: int,
    requests: int | None = None,
    rate_remaining: int | None = None,
    rate_reset: float | None = None,
) -> float | None:
    """When the scopes left will be done, at the pace of those done so far (``elapsed``
    seconds for ``done`` of ``total``, ``requests`` made meanwhile). When the requests they
    will need exceed what the rate limit has left, the rest waits for the reset and then goes
    on at the same pace. None before the first scope is done."""
    if done <= 0 or total <= done or elapsed <= 0:
        return now if total and done >= total else None
    left = (total - done) / done
    finish = now + elapsed * left
    if not requests or rate_remaining is None or rate_reset is None or rate_reset <= now:
        return finish
    needed = requests * left
    if needed <= rate_remaining:
        return finish
    pace = requests / elapsed  # requests a second
    return max(finish, rate_reset + (needed - rate_remaining) / pace)


class SharedProgress(ProgressRelay):
    """A relay that worker threads share: one report at a time, the rate limit remembered."""

    def __init__(
        self,
        target: Progress,
        requests: Callable[[], int | None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(target)
        self._requests = requests
        self._clock = clock
        self._lock = threading.RLock()
        self._rate_remaining: int | None = None
        self._rate_reset: float | None = None
        self._started: tuple[float, int] | None = None

    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> None:
        with self._lock:
            if rate_remaining is not None:
                self._rate_remaining = rate_remaining
            super().update(
                repository=repository, pages=pages, events=events, rate_remaining=rate_remaining
            )

    def notice(self, message: str) -> None:
        with self._lock:
            super().notice(message)

    def expect(
        self,
        *,
        repositories: int | None = None,
        listing_page: tuple[int, int] | None = None,
        rate_reset: float | None = None,
        finish_at: float | None = None,
    ) -> None:
        with self._lock:
            if rate_reset is not None:
                self._rate_reset = rate_reset
            super().expect(
                repositories=repositories,
                listing_page=listing_page,
                rate_reset=rate_reset,
                finish_at=finish_at,
            )

    def scopes_begin(self) -> None:
        """The scopes start now; the pace is measured from here."""
        with self._lock:
            self._started = (self._clock(), self._requests() or 0)

    def scopes_stored(self, done: int, total: int) -> None:
        """``done`` of ``total`` scopes are stored: project the finish and show it."""
        with self._lock:
            if self._started is None:
                return
            began, requests_before = self._started
            now = self._clock()
            requests = self._requests()
            finish = projected_finish(
                now=now,
                elapsed=now - began,
                done=done,
                total=total,
                requests=None if requests is None else requests - requests_before,
                rate_remaining=self._rate_remaining,
                rate_reset=self._rate_reset,
            )
            if finish is not None:
                self.target.expect(finish_at=finish)
