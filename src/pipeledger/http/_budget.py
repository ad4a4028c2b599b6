"""One rate-limit budget and one pause for every thread that shares an
:class:`~pipeledger.http.client.ApiClient`.

``collect --concurrency N`` sends requests from several threads with one token, so they spend
one budget: a request is admitted only while the requests left (as the API last said) exceed
those already in flight, and once the budget is spent every thread waits for the reset. A
rate-limit answer (403/429, a secondary limit, ``Retry-After``) to any thread pauses all of
them: the pause is shared, announced once, and each thread sits it out once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pause:
    """A wait this thread still has to sit out: ``seconds`` from now, until ``until``."""

    until: float
    seconds: float
    length: float  # as first asked for: announced when it is a second or more
    reason: str
    announce: bool  # the first thread to meet a new pause says so; the others wait quietly


class SharedBudget:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.remaining: int | None = None
        self.reset: float | None = None  # Unix time the API said the budget renews
        self._in_flight = 0
        self._pause_until = 0.0
        self._pause_length = 0.0
        self._reason = ""
        self._announced = True
        self._served = threading.local()

    def pause(self, seconds: float, reason: str) -> None:
        """No thread starts a request for ``seconds`` from now."""
        with self._lock:
            now = self._clock()
            self._extend(now + seconds, reason, now)

    def pending(self) -> Pause | None:
        """The pause the calling thread has not sat out yet, if any."""
        served = getattr(self._served, "until", 0.0)
        with self._lock:
            if self._pause_until <= served:
                return None
            self._served.until = self._pause_until
            announce = not self._announced
            self._announced = True
            seconds = self._pause_until - self._clock()
            return Pause(self._pause_until, seconds, self._pause_length, self._reason, announce)

    def admit(self) -> bool:
        """Count one request in flight; False (and a pause until the reset) when the requests
        left are all taken by those in flight."""
        with self._lock:
            spent = self.remaining is not None and self.remaining - self._in_flight <= 0
            if spent and self.reset is not None and self.reset > self._clock():
                self._extend(self.reset + 1.0, "rate limit used up", self._clock())
                # After the reset the budget is whatever the next answer says.
                self.remaining = None
                return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def observe(self, remaining: int, reset: float | None) -> None:
        """What one answer said. Answers to concurrent requests arrive out of order, so
        within one window (the same reset) the lowest count stands; any other reset is
        taken as said (GitLab's moves with every request)."""
        with self._lock:
            if reset == self.reset and self.remaining is not None:
                remaining = min(remaining, self.remaining)
            self.remaining = remaining
            self.reset = reset

    def seconds_to_reset(self) -> float | None:
        with self._lock:
            return None if self.reset is None else max(self.reset - self._clock(), 0.0)

    def _extend(self, until: float, reason: str, now: float) -> None:
        if until > self._pause_until:
            self._pause_length = until - now
            self._pause_until = until
            self._reason = reason
            self._announced = False
