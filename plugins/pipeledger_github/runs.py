"""Workflow runs of one repository, incrementally: newest-first from the top (first page
conditional) for what is newer than the stored span, ``created`` windows split below the
1,000-result cap for bounded or older ranges, and a conditional re-check of unfinished runs.

Every batch carries the cursor that is true once its events are stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pipeledger.plugin import AuditEvent, Batch, format_time
from pipeledger_github.client import Page
from pipeledger_github.cursor import Pending, SourceCursor, Span
from pipeledger_github.errors import NotFound
from pipeledger_github.normalize.fields import ident_of, time_field
from pipeledger_github.normalize.pipelines import RUNS_ENDPOINT, run_is_final
from pipeledger_github.repo_context import RepoContext, compact_run
from pipeledger_github.spans import ACTIONS_EPOCH, Gap, Side, created_query, halves, plan_gaps

SOURCE = "runs"
FILTER_CAP = 1000
RUNS_KEY = "workflow_runs"


class RunsCollector:
    """One collection of one repository's runs; ``runs`` keeps what deployments need."""

    def __init__(self, context: RepoContext, stored: SourceCursor) -> None:
        self.ctx = context
        self.stored = stored
        self.pending = dict(stored.pending)
        self.listed: set[str] = set()
        self.runs: dict[str, dict[str, Any]] = {}
        self._path = f"{context.client.repos_path(context.repository)}/actions/runs"
        self._wanted = Gap(None, None, Side.APART)

    def collect(self, since: datetime | None, until: datetime | None) -> Iterator[Batch]:
        self._wanted = Gap(since, until, Side.APART)
        for gap in plan_gaps(self.stored.span, since, until):
            if gap.high is None:
                yield from self._list_from_top(gap)
            else:
                yield from self._list_windows(gap)
        yield from self._recheck_pending()

    # Newest first, without a filter: no result cap, and the first page's ETag stays valid.
    def _list_from_top(self, gap: Gap) -> Iterator[Batch]:
        newest: datetime | None = None
        first: tuple[str | None, datetime | None] = (None, None)
        for number, page in enumerate(self._pages(None, self.stored.etag), start=1):
            if page.not_modified:
                self._unchanged_since(self.stored.floor)
                return
            events, oldest, page_newest = self._take(page)
            first = (page.etag, oldest) if number == 1 else first
            newest = _later(newest, page_newest)
            reached = page.next_url is None or (
                gap.low is not None and oldest is not None and oldest < gap.low
            )
            top = _later(newest, gap.low)
            if gap.side is Side.FRESH:
                low = gap.low if reached else oldest
                span = Span(low, top) if top is not None else None
                yield self._batch(events, span, *first)
            elif reached:
                yield self._batch(events, self._grown_span(gap, top), *first)
            else:
                yield self._batch(events, self.stored.span, self.stored.etag, self.stored.floor)
            if reached:
                return

    def _unchanged_since(self, floor: datetime | None) -> None:
        """A 304 vouches that the runs on the first page, unfinished ones too, are unchanged."""
        for run_id, pending in self.pending.items():
            if floor is not None and pending.created_at >= floor:
                self.listed.add(run_id)

    def _grown_span(self, gap: Gap, top: datetime | None) -> Span | None:
        span = self.stored.span
        if span is None or top is None:
            return span
        if gap.side is Side.APART:
            return Span(gap.low, top)
        return Span(span.low, max(span.high, top))

    # Bounded ranges: ``created`` windows, halved until each holds at most 1,000 runs.
    def _list_windows(self, gap: Gap) -> Iterator[Batch]:
        assert gap.high is not None
        low = gap.low or ACTIONS_EPOCH
        ascending = gap.side is Side.UPPER
        for window_low, window_high, pages in self._leaves(low, gap.high, ascending):
            for page in pages:
                events, _, _ = self._take(page)
                yield self._batch(events, self.stored.span, self.stored.etag, self.stored.floor)
            span = self._span_after_window(gap, window_low, window_high)
            yield self._batch([], span, self.stored.etag, self.stored.floor)

    def _leaves(
        self, low: datetime, high: datetime, ascending: bool
    ) -> Iterator[tuple[datetime, datetime, Iterator[Page]]]:
        pages = self._pages(created_query(low, high), None)
        first = next(pages)
        parts = halves(low, high)
        if (first.total_count or 0) > FILTER_CAP and len(parts) == 2:
            for part_low, part_high in parts if ascending else reversed(parts):
                yield from self._leaves(part_low, part_high, ascending)
            return
        if (first.total_count or 0) > FILTER_CAP:
            self.ctx.oddities.note(
                f"more than {FILTER_CAP} runs were created within one second at"
                f" {format_time(low)}; GitHub lists only {FILTER_CAP} of them."
            )
        yield low, high, _chain(first, pages)

    def _span_after_window(self, gap: Gap, low: datetime, high: datetime) -> Span | None:
        span = self.stored.span
        floor = None if low <= ACTIONS_EPOCH and gap.low is None else low
        if gap.side is Side.FRESH:
            return Span(floor, gap.high or high)
        if span is None or gap.side is Side.APART:
            return span
        if gap.side is Side.LOWER:
            return Span(floor, span.high)
        return Span(span.low, max(span.high, high))

    # Unfinished runs not seen in this collection's lists: one conditional GET each.
    def _recheck_pending(self) -> Iterator[Batch]:
        events: list[AuditEvent] = []
        for run_id, pending in sorted(self.pending.items()):
            if run_id in self.listed:
                continue
            try:
                page = self.ctx.client.run(self.ctx.repository, run_id, pending.etag)
            except NotFound:
                self.ctx.oddities.note(
                    f"unfinished run {run_id} is gone; it is no longer followed."
                )
                del self.pending[run_id]
                continue
            if page.not_modified:
                continue
            events += self._record(page.items[0])
            if run_id in self.pending:
                self.pending[run_id] = Pending(pending.created_at, page.etag)
        yield self._batch(events, self.stored.span, self.stored.etag, self.stored.floor)

    def _pages(self, created: str | None, etag: str | None) -> Iterator[Page]:
        params = {"created": created} if created else None
        for page in self.ctx.client.pages(self._path, params, key=RUNS_KEY, etag=etag):
            self.ctx.page_read()
            yield page

    def _take(self, page: Page) -> tuple[list[AuditEvent], datetime | None, datetime | None]:
        """Events of the page's runs in the requested range, with the page's oldest and newest
        creation times. Runs below the gap are stored already; recording them again costs
        nothing and catches their re-runs."""
        events: list[AuditEvent] = []
        times: list[datetime] = []
        for run in page.items:
            created = time_field(run, "created_at")
            if created is None:
                self.ctx.held.hold(
                    RUNS_ENDPOINT, ident_of(run), "the workflow run has no usable 'created_at'", run
                )
                continue
            times.append(created)
            if self._wanted.contains(created) or ident_of(run) in self.pending:
                events += self._record(run)
        return events, min(times, default=None), max(times, default=None)

    def _record(self, run: Mapping[str, Any]) -> list[AuditEvent]:
        events = self.ctx.run_events(run)
        run_id = ident_of(run)
        created = time_field(run, "created_at")
        if events and run_id is not None and created is not None:
            self.listed.add(run_id)
            self.runs[run_id] = compact_run(run, self.ctx.repository)
            if run_is_final(run):
                self.pending.pop(run_id, None)
            else:
                self.pending[run_id] = Pending(
                    created, self.pending.get(run_id, Pending(created)).etag
                )
        return events

    def _batch(
        self,
        events: list[AuditEvent],
        span: Span | None,
        etag: str | None,
        floor: datetime | None,
    ) -> Batch:
        self.stored = SourceCursor(span, etag, floor, dict(self.pending))
        return self.ctx.batch(events, SOURCE, self.stored)

    def adopt(self, run_id: str) -> tuple[dict[str, Any] | None, list[AuditEvent]]:
        """Fetch and record a run that was not listed (an older run re-run since), without
        following it: its later states come with the next deployment it makes."""
        try:
            page = self.ctx.client.run(self.ctx.repository, run_id)
        except NotFound:
            self.ctx.oddities.note(f"run {run_id}, named by a deployment, is gone.")
            return None, []
        run = page.items[0]
        events = self.ctx.run_events(run)
        self.runs[run_id] = compact_run(run, self.ctx.repository)
        return self.runs[run_id], events


def _chain(first: Page, rest: Iterator[Page]) -> Iterator[Page]:
    yield first
    yield from rest


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
