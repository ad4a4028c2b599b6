"""Progress reporting: a live status line on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO


class Progress(Protocol):
    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> None: ...

    def notice(self, message: str) -> None: ...


class SilentProgress:
    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> None:
        return None

    def notice(self, message: str) -> None:
        return None


class StreamProgress:
    """Writes to stderr: one redrawn line on a TTY, a line per repository otherwise."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = 0.2,
        safe: Callable[[str], str] = lambda text: text,
    ) -> None:
        # ``safe`` masks secrets and neutralises control characters in what servers named.
        self._safe = safe
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._interval = interval
        self._last_draw = 0.0
        self.repositories = 0
        self.pages = 0
        self.events = 0
        self.rate_remaining: int | None = None
        self._repository: str | None = None

    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> None:
        if repository is not None and repository != self._repository:
            self._repository = repository
            self.repositories += 1
            if not self._tty:
                self._stream.write(self._safe(f"pipeledger: collecting {repository}") + "\n")
        self.pages += pages
        self.events += events
        if rate_remaining is not None:
            self.rate_remaining = rate_remaining
        if self._tty:
            self._draw()

    def notice(self, message: str) -> None:
        if self._tty:
            self._stream.write("\r\x1b[2K")
        self._stream.write(self._safe(f"pipeledger: {message}") + "\n")
        self._stream.flush()

    def finish(self) -> None:
        if self._tty:
            self._draw(force=True)
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < self._interval:
            return
        self._last_draw = now
        rate = "?" if self.rate_remaining is None else str(self.rate_remaining)
        line = (
            f"repositories {self.repositories}  pages {self.pages}  events {self.events}"
            f"  rate limit left {rate}  {self._repository or ''}"
        )
        line = self._safe(line)
        self._stream.write("\r\x1b[2K" + line[:160])
        self._stream.flush()
