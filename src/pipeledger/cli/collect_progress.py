"""What ``collect`` shows while it runs, and the summary it ends with.

On a terminal: a live display drawn by rich — a bar over the repositories once they are
listed, with elapsed time and an estimate of what remains, then pages, new events, the page
of the listing being read, and the rate limit left with its next reset; notices print above
it. Elsewhere (a CI log, a file): the plain lines of
:class:`~pipeledger.collect.progress.StreamProgress`. With ``-q``: nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from pipeledger.cli.color import is_terminal
from pipeledger.cli.command_context import Context
from pipeledger.cli.console import make_console
from pipeledger.collect.progress import (
    SilentProgress,
    StreamProgress,
    TalliedProgress,
    finish_text,
)


class _Display(RichProgress):
    """rich's progress table, plus one line of detail under it."""

    detail: Text = Text()

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        if self.detail.plain:
            yield self.detail


class LiveProgress(TalliedProgress):
    """The terminal display. ``finish`` (or leaving the ``with`` block) stops it and leaves
    its last state on screen."""

    def __init__(
        self,
        console: Console,
        clock: Callable[[], float] = time.time,
        safe: Callable[[str], str] = lambda text: text,
    ) -> None:
        super().__init__()
        self._clock = clock
        self._safe = safe  # masks secrets, neutralises control characters (Context.safe_text)
        self._display = _Display(
            SpinnerColumn(),
            TextColumn("{task.description}", style="pl.actor"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("repositories"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            refresh_per_second=8,
        )
        self._task: TaskID = self._display.add_task("listing", total=None)
        self._display.start()

    def _updated(self, *, first: bool, moved: bool) -> None:
        if moved and self.tally.current is not None:
            done = max(self.tally.repositories - 1, 0)
            description = self._safe(self.tally.current)
            self._display.update(self._task, description=description, completed=done)
        self._refresh_detail()

    def _expected(self, *, restarted: bool) -> None:
        if restarted:
            total = self.tally.repositories_total
            self._display.reset(self._task, total=total, description="starting")
        self._refresh_detail()

    def notice(self, message: str) -> None:
        line = self._safe(f"pipeledger: {message}")
        self._display.console.print(line, markup=False, highlight=False)

    def finish(self, *, complete: bool = True) -> None:
        if complete:
            task = self._display.tasks[0]
            if task.total is not None:
                self._display.update(self._task, completed=task.total, description="done")
        self._refresh_detail()
        self._display.stop()

    def _refresh_detail(self) -> None:
        self._display.detail = Text(self.detail_line(), style="pl.dim")

    def detail_line(self) -> str:
        tally = self.tally
        parts = [f"pages {tally.pages}", f"events {tally.events} new"]
        if tally.listing_page is not None:
            parts.append(f"listing page {tally.listing_page[0]}/{tally.listing_page[1]}")
        if tally.rate_remaining is not None:
            rate = f"rate limit {tally.rate_remaining} left"
            if tally.rate_reset is not None:
                reset = datetime.fromtimestamp(tally.rate_reset, UTC)
                rate += f", resets {reset:%H:%M:%S} UTC"
            parts.append(rate)
        if tally.finish_at is not None:
            parts.append(finish_text(tally.finish_at))
        return "  ·  ".join(parts)

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.finish(complete=kind is None)


class PlainProgress(StreamProgress):
    """Log lines for a CI log or a file: one per repository, notices as they come. Also on
    a terminal with --no-color/NO_COLOR: no redrawn line, no escape codes."""

    def __init__(self, stream: TextIO, safe: Callable[[str], str] = lambda text: text) -> None:
        super().__init__(stream, safe=safe)
        self._tty = False

    def finish(self, *, complete: bool = True) -> None:
        return None


class QuietProgress(SilentProgress):
    repositories_seen: int | None = None

    def finish(self, *, complete: bool = True) -> None:
        return None


CollectProgress = LiveProgress | PlainProgress | QuietProgress


def progress_for(context: Context) -> CollectProgress:
    """The live display on a colour-capable terminal, plain lines elsewhere, nothing with
    -q."""
    if context.quiet:
        return QuietProgress()
    stream = context.stderr
    if is_terminal(stream) and context.colors(stream):
        return LiveProgress(
            make_console(stream, context.environ, color=True), safe=context.safe_text
        )
    return PlainProgress(stream, safe=context.safe_text)


def closing_summary(by_kind: Counter[str], seconds: float, repositories: int | None) -> str:
    """``new by kind: 40 pipeline.run, 12 deployment; 14 repositories in 1m 12s``."""
    kinds = ", ".join(f"{count} {kind}" for kind, count in by_kind.most_common()) or "nothing"
    where = f"{repositories} repositories " if repositories is not None else ""
    return f"pipeledger: new by kind: {kinds}; {where}in {_duration(seconds)}."


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {rest:02d}s"
