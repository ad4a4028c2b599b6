"""Progress reporting: what a collection tells the person waiting for it.

Adapters and the API client report through :class:`Progress`: the repository they are on,
pages and events, the rate limit, notices, and what lies ahead (:meth:`Progress.expect`: how
many repositories, the page of a listing out of how many, when the rate limit resets). The
CLI draws it — a live display on a terminal (``pipeledger.cli.collect_progress``), plain log
lines (:class:`StreamProgress`) elsewhere.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

    def expect(
        self,
        *,
        repositories: int | None = None,
        listing_page: tuple[int, int] | None = None,
        rate_reset: float | None = None,
        finish_at: float | None = None,
    ) -> None:
        """What lies ahead: ``repositories`` to collect from now on, the listing being read
        is on page ``listing_page[0]`` of ``listing_page[1]``, the rate limit resets at
        ``rate_reset``, the collection is projected to finish at ``finish_at`` (Unix
        times)."""


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

    def expect(
        self,
        *,
        repositories: int | None = None,
        listing_page: tuple[int, int] | None = None,
        rate_reset: float | None = None,
        finish_at: float | None = None,
    ) -> None:
        return None


class ProgressRelay:
    """Passes every report on to ``target``, which can be swapped: a client built once
    reports to the progress of whichever collection is running."""

    def __init__(self, target: Progress | None = None) -> None:
        self.target: Progress = target if target is not None else SilentProgress()

    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> None:
        self.target.update(
            repository=repository, pages=pages, events=events, rate_remaining=rate_remaining
        )

    def notice(self, message: str) -> None:
        self.target.notice(message)

    def expect(
        self,
        *,
        repositories: int | None = None,
        listing_page: tuple[int, int] | None = None,
        rate_reset: float | None = None,
        finish_at: float | None = None,
    ) -> None:
        self.target.expect(
            repositories=repositories,
            listing_page=listing_page,
            rate_reset=rate_reset,
            finish_at=finish_at,
        )


@dataclass
class ProgressTally:
    """What a collection has reported so far — the one count every display draws from (the
    log lines below, the live display of ``pipeledger.cli.collect_progress``). With
    ``--concurrency`` several repositories report in turn: each is counted once."""

    repositories_total: int | None = None
    pages: int = 0
    events: int = 0
    rate_remaining: int | None = None
    rate_reset: float | None = None
    finish_at: float | None = None
    listing_page: tuple[int, int] | None = None
    current: str | None = None  # the repository that reported last
    seen: set[str] = field(default_factory=set)

    @property
    def repositories(self) -> int:
        return len(self.seen)

    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> bool:
        """Count one report; True when it names a repository not seen before."""
        first = False
        if repository is not None and repository != self.current:
            self.current = repository
            self.listing_page = None  # a listing belongs to the repository being read
            first = repository not in self.seen
            self.seen.add(repository)
        self.pages += pages
        self.events += events
        if rate_remaining is not None:
            self.rate_remaining = rate_remaining
        return first

    def expect(
        self,
        *,
        repositories: int | None = None,
        listing_page: tuple[int, int] | None = None,
        rate_reset: float | None = None,
        finish_at: float | None = None,
    ) -> None:
        if repositories is not None:
            # Counting starts over: what came before (an organization's own records) is
            # not one of the repositories announced.
            self.repositories_total = repositories
            self.seen.clear()
            self.current = None
            self.finish_at = None
        if finish_at is not None:
            self.finish_at = finish_at
        if listing_page is not None:
            self.listing_page = listing_page
        if rate_reset is not None:
            self.rate_reset = rate_reset


class TalliedProgress:
    """A display that counts every report in one :class:`ProgressTally` and then shows what
    changed: subclasses say how (``_updated``, ``_expected``)."""

    def __init__(self) -> None:
        self.tally = ProgressTally()

    @property
    def repositories_seen(self) -> int:
        return self.tally.repositories

    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> None:
        before = self.tally.current
        first = self.tally.update(
            repository=repository, pages=pages, events=events, rate_remaining=rate_remaining
        )
        self._updated(first=first, moved=self.tally.current != before)

    def expect(
        self,
        *,
        repositories: int | None = None,
        listing_page: tuple[int, int] | None = None,
        rate_reset: float | None = None,
        finish_at: float | None = None,
    ) -> None:
        self.tally.expect(
            repositories=repositories,
            listing_page=listing_page,
            rate_reset=rate_reset,
            finish_at=finish_at,
        )
        self._expected(restarted=repositories is not None)

    def _updated(self, *, first: bool, moved: bool) -> None:
        """After a report: ``first`` when it named a repository not seen before, ``moved``
        when another repository than the last one reported."""

    def _expected(self, *, restarted: bool) -> None:
        """After news of what lies ahead: ``restarted`` when the count started over."""


class StreamProgress(TalliedProgress):
    """Writes to stderr: one redrawn line on a TTY, a line per repository otherwise (a CI
    log), numbered once the total is known: ``collecting acme/web (3/12)``."""

    def __init__(
        self,
        stream: TextIO | None = None,
        interval: float = 0.2,
        safe: Callable[[str], str] = lambda text: text,
    ) -> None:
        super().__init__()
        # ``safe`` masks secrets and neutralises control characters in what servers named.
        self._safe = safe
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._interval = interval
        self._last_draw = 0.0

    def _updated(self, *, first: bool, moved: bool) -> None:
        if first and not self._tty:
            line = f"pipeledger: collecting {self.tally.current}{self._count()}{self._finish()}"
            self._stream.write(self._safe(line) + "\n")
        if self._tty:
            self._draw()

    def _count(self) -> str:
        tally = self.tally
        if tally.repositories_total is None:
            return ""
        return f" ({tally.repositories}/{tally.repositories_total})"

    def _finish(self) -> str:
        finish_at = self.tally.finish_at
        return "" if finish_at is None else f", {finish_text(finish_at)}"

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
        tally = self.tally
        rate = "?" if tally.rate_remaining is None else str(tally.rate_remaining)
        line = (
            f"repositories {tally.repositories}{self._count()}  pages {tally.pages}"
            f"  events {tally.events}  rate limit left {rate}{self._finish()}"
            f"  {tally.current or ''}"
        )
        line = self._safe(line)
        self._stream.write("\r\x1b[2K" + line[:160])
        self._stream.flush()


def finish_text(finish_at: float) -> str:
    """``projected finish 14:03:12 UTC``, with the date when it is not today."""
    when = datetime.fromtimestamp(finish_at, UTC)
    today = datetime.now(UTC).date()
    shown = f"{when:%H:%M:%S}" if when.date() == today else f"{when:%Y-%m-%d %H:%M:%S}"
    return f"projected finish {shown} UTC"
