"""Deployments of one repository, incrementally: newest first (first page conditional), one
statuses call per new deployment, a conditional re-check of those not final yet, and each
deployment's provenance (approvals of the run that made it, reviews of the deployed commit).

Every page is one batch whose cursor is true once its events are stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeledger.plugin import AuditEvent, Batch
from pipeledger_github.client import Page
from pipeledger_github.cursor import Pending, SourceCursor, Span
from pipeledger_github.errors import NotFound
from pipeledger_github.evidence import Provenance
from pipeledger_github.normalize.fields import ident_of, time_field
from pipeledger_github.normalize.pipelines import (
    DEPLOYMENTS_ENDPOINT,
    deployment_is_final,
    deployment_run_id,
)
from pipeledger_github.repo_context import RepoContext
from pipeledger_github.runs import RunsCollector
from pipeledger_github.spans import Gap, Side, plan_gaps

SOURCE = "deployments"
# A deployment with no final status after this long is no longer re-checked.
FOLLOW_PENDING_FOR = timedelta(days=30)
DEPLOYMENT_FIELDS = (
    "id",
    "sha",
    "ref",
    "task",
    "environment",
    "original_environment",
    "production_environment",
    "transient_environment",
    "description",
    "created_at",
)

Item = Mapping[str, Any]


@dataclass
class _Page:
    """What one listed page brought: events, and the runs whose deployments changed."""

    events: list[AuditEvent] = field(default_factory=list)
    changed_runs: set[str] = field(default_factory=set)
    oldest: datetime | None = None
    newest: datetime | None = None


class DeploymentsCollector:
    def __init__(
        self, context: RepoContext, stored: SourceCursor, runs: RunsCollector, now: datetime
    ) -> None:
        self.ctx = context
        self.stored = stored
        self.runs = runs
        self.now = now
        self.pending = dict(stored.pending)
        self._followed = set(stored.pending)
        self.provenance = Provenance(context)
        self.by_run: dict[str, list[Item]] = {}

    def collect(self, since: datetime | None, until: datetime | None) -> Iterator[Batch]:
        gaps = plan_gaps(self.stored.span, since, until)
        if gaps:
            yield from self._list(gaps)
        yield from self._recheck_pending()

    def _list(self, gaps: list[Gap]) -> Iterator[Batch]:
        # A 304 can only vouch for the top of the list; an older gap needs the pages anyway.
        only_top = len(gaps) == 1 and gaps[0].high is None
        etag = self.stored.etag if only_top else None
        bottom = _lowest(gaps)
        newest: datetime | None = None
        first_etag: str | None = None
        for number, page in enumerate(self._pages(etag), start=1):
            if page.not_modified:
                return
            listed = self._take(page, gaps)
            first_etag = page.etag if number == 1 else first_etag
            newest = newest or listed.newest
            reached = page.next_url is None or (
                bottom is not None and listed.oldest is not None and listed.oldest < bottom
            )
            span = self._span_after(gaps, listed.oldest, newest, reached)
            # The ETag may be kept only when a 304 would mean "nothing newer than the span".
            vouches = newest is None or (span is not None and newest <= span.high)
            events = listed.events + self._approvals(listed.changed_runs, adopt=True)
            yield self._batch(events, span, first_etag if vouches else self.stored.etag)
            if reached:
                return

    def _take(self, page: Page, gaps: list[Gap]) -> _Page:
        listed = _Page()
        fresh: list[tuple[Item, str, datetime]] = []
        for deployment in page.items:
            created = time_field(deployment, "created_at")
            ident = ident_of(deployment)
            if created is None or ident is None:
                self.ctx.held.hold(
                    DEPLOYMENTS_ENDPOINT,
                    ident_of(deployment),
                    "the deployment has no usable 'id' or 'created_at'",
                    deployment,
                )
                continue
            listed.oldest = min(listed.oldest or created, created)
            listed.newest = max(listed.newest or created, created)
            if ident in self.pending or not any(gap.contains(created) for gap in gaps):
                continue
            fresh.append((deployment, ident, created))
        self.provenance.prefetch(deployment.get("sha") for deployment, _, _ in fresh)
        for deployment, ident, created in fresh:
            listed.events += self._record(deployment, ident, created, listed.changed_runs)
            listed.events += self.provenance.reviews(deployment)
        return listed

    def _record(
        self, deployment: Item, ident: str, created: datetime, changed: set[str]
    ) -> list[AuditEvent]:
        try:
            page = self.ctx.client.statuses(self.ctx.repository, ident)
        except NotFound:
            self.ctx.oddities.note(f"deployment {ident} was deleted while being read; skipped.")
            return []
        statuses = page.items
        events = self.ctx.deployment_events(deployment, statuses)
        if events and not deployment_is_final(statuses):
            self.pending[ident] = Pending(created, page.etag, compact_deployment(deployment))
        self._note_run(deployment, statuses, changed)
        return events

    def _note_run(self, deployment: Item, statuses: list[Item], changed: set[str]) -> None:
        run_id = deployment_run_id(statuses)
        if run_id is None:
            return
        known = self.by_run.setdefault(run_id, [])
        if all(ident_of(d) != ident_of(deployment) for d in known):
            known.append(compact_deployment(deployment))
        changed.add(run_id)

    def _approvals(self, run_ids: set[str], *, adopt: bool) -> list[AuditEvent]:
        events: list[AuditEvent] = []
        for run_id in sorted(run_ids):
            run, run_events = self._run(run_id, adopt)
            events += run_events
            events += self.provenance.approvals(run, self.by_run.get(run_id, []))
        return events

    def _run(self, run_id: str, adopt: bool) -> tuple[Item, list[AuditEvent]]:
        """The run as listed. A run that made a new deployment but was not listed is older
        than the runs already stored: a re-run of it made the deployment, so it is fetched
        (once) and its new attempt recorded."""
        if run_id in self.runs.runs:
            return self.runs.runs[run_id], []
        if adopt:
            run, events = self.runs.adopt(run_id)
            if run is not None:
                return run, events
        stub: dict[str, Any] = {"id": run_id, "repository": {"full_name": self.ctx.repository}}
        self.runs.runs[run_id] = stub
        return stub, []

    def _recheck_pending(self) -> Iterator[Batch]:
        events: list[AuditEvent] = []
        changed: set[str] = set()
        for ident, pending in sorted(self.pending.items()):
            if ident not in self._followed:
                continue  # recorded by this collection's listing just now
            if pending.record is None or self.now - pending.created_at > FOLLOW_PENDING_FOR:
                del self.pending[ident]
                continue
            try:
                page = self.ctx.client.statuses(self.ctx.repository, ident, pending.etag)
            except NotFound:
                self.ctx.oddities.note(f"deployment {ident} was deleted; no longer followed.")
                del self.pending[ident]
                continue
            if page.not_modified:
                continue
            events += self.ctx.deployment_events(pending.record, page.items)
            self._note_run(pending.record, page.items, changed)
            if deployment_is_final(page.items):
                del self.pending[ident]
            else:
                self.pending[ident] = Pending(pending.created_at, page.etag, pending.record)
        events += self._approvals(changed, adopt=False)
        yield self._batch(events, self.stored.span, self.stored.etag)

    def _span_after(
        self,
        gaps: list[Gap],
        oldest: datetime | None,
        newest: datetime | None,
        reached: bool,
    ) -> Span | None:
        """The stored span once the pages listed so far are stored."""
        span = self.stored.span
        for gap in gaps:
            passed = reached or (oldest is not None and gap.low is not None and oldest < gap.low)
            low = gap.low if passed else oldest
            if gap.side is Side.FRESH:
                high = gap.high or _later(newest, gap.low)
                if high is not None and (low is None or low <= high):
                    span = Span(low, high)
            elif span is not None and gap.side is Side.UPPER and passed:
                span = Span(span.low, max(span.high, gap.high or newest or span.high))
            elif span is not None and gap.side is Side.LOWER and _below(low, span.low):
                span = Span(low, span.high)
        return span

    def _pages(self, etag: str | None) -> Iterator[Page]:
        path = f"{self.ctx.client.repos_path(self.ctx.repository)}/deployments"
        for page in self.ctx.client.pages(path, etag=etag):
            self.ctx.page_read()
            yield page

    def _batch(self, events: list[AuditEvent], span: Span | None, etag: str | None) -> Batch:
        self.stored = SourceCursor(span=span, etag=etag, pending=dict(self.pending))
        return self.ctx.batch(events, SOURCE, self.stored)


def compact_deployment(deployment: Item) -> dict[str, Any]:
    """The fields the normalizer needs to record later statuses of a deployment."""
    compact = {key: deployment[key] for key in DEPLOYMENT_FIELDS if key in deployment}
    creator = deployment.get("creator")
    if isinstance(creator, Mapping):
        compact["creator"] = {k: creator[k] for k in ("login", "id", "type") if k in creator}
    app = deployment.get("performed_via_github_app")
    if isinstance(app, Mapping) and "slug" in app:
        compact["performed_via_github_app"] = {"slug": app["slug"]}
    return compact


def _below(low: datetime | None, floor: datetime | None) -> bool:
    """Whether ``low`` extends a span that starts at ``floor`` downward (None is the start)."""
    return floor is not None and (low is None or low < floor)


def _lowest(gaps: list[Gap]) -> datetime | None:
    lows = [gap.low for gap in gaps]
    return None if any(low is None for low in lows) else min(low for low in lows if low)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
