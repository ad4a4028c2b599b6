"""Normalize + ledger throughput of GitHub collection without the network: the API payloads of
a generated org are rendered (and JSON round-tripped) up front, then the adapter's pure
normalizers turn them into events in the batches the collector makes (one per runs page, one
per deployments page with its statuses, reviews and approvals) and ``SqliteSink`` stores them.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fakes.github_data import (
    FakeOrg,
    FakeRepo,
    render_approval,
    render_deployment,
    render_pull_simple,
    render_review,
    render_run,
    render_status,
)

from pipeledger.events import AuditEvent
from pipeledger_github.cursor import SourceCursor, Span, cursor_key
from pipeledger_github.deployments import compact_deployment
from pipeledger_github.normalize.fields import Oddities
from pipeledger_github.normalize.pipelines import (
    approval_events,
    deployment_events,
    deployment_run_id,
    review_events,
    run_event,
)
from pipeledger_github.repo_context import compact_run
from pipeledger_sqlite.sink import SqliteSink

INSTANCE = "github.com"
BASE = "https://api.github.com"
PAGE = 100
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ETAG = 'W/"' + "0" * 64 + '"'
Item = dict[str, Any]


@dataclass
class Deployed:
    """One listed deployment with what the collector fetches for it."""

    deployment: Item
    statuses: list[Item]
    pulls: list[tuple[Item, list[Item]]]  # merged pull requests of its commit, with reviews


@dataclass
class RepoPayloads:
    repository: str
    run_pages: list[list[Item]] = field(default_factory=list)
    deployment_pages: list[list[Deployed]] = field(default_factory=list)
    approvals: dict[str, list[Item]] = field(default_factory=dict)  # run id -> approvals


@dataclass(frozen=True)
class Throughput:
    events: int
    batches: int
    normalize_cpu: float
    append_cpu: float

    @property
    def per_second(self) -> float:
        return self.events / (self.normalize_cpu + self.append_cpu)


def _decoded(payload: Any) -> Any:
    """What ``response.json()`` would hand the collector: fresh objects, nothing shared."""
    return json.loads(json.dumps(payload))


def render_payloads(org: FakeOrg) -> list[RepoPayloads]:
    return [_repo_payloads(repo) for repo in sorted(org.repos.values(), key=lambda r: r.name)]


def _repo_payloads(repo: FakeRepo) -> RepoPayloads:
    payloads = RepoPayloads(f"{repo.owner}/{repo.name}")
    runs = [render_run(run, repo, BASE) for run in repo.sorted_runs()]
    payloads.run_pages = [_decoded(runs[at : at + PAGE]) for at in range(0, len(runs), PAGE)]
    listed = [_deployed(repo, deployment) for deployment in repo.sorted_deployments()]
    payloads.deployment_pages = [listed[at : at + PAGE] for at in range(0, len(listed), PAGE)]
    payloads.approvals = {
        str(run_id): _decoded([render_approval(a, repo, BASE) for a in approvals])
        for run_id, approvals in repo.approvals.items()
    }
    return payloads


def _deployed(repo: FakeRepo, deployment: Any) -> Deployed:
    statuses = sorted(deployment.statuses, key=lambda s: (s.created_at, s.id), reverse=True)
    pulls = [repo.pulls[n] for n in repo.commit_pulls.get(deployment.sha, []) if n in repo.pulls]
    return Deployed(
        _decoded(render_deployment(deployment, repo, BASE)),
        _decoded([render_status(s, deployment, repo, BASE) for s in statuses]),
        [
            _decoded(
                (
                    render_pull_simple(pull, repo, BASE),
                    [render_review(r, pull, repo, BASE) for r in pull.reviews],
                )
            )
            for pull in pulls
            if pull.merged_at is not None
        ],
    )


def normalized_batches(payloads: list[RepoPayloads]) -> Iterator[tuple[list[AuditEvent], str]]:
    """Events of each batch, with the cursor key it would carry."""
    notes = Oddities()
    for repo in payloads:
        yield from _repo_batches(repo, notes)


def _repo_batches(repo: RepoPayloads, notes: Oddities) -> Iterator[tuple[list[AuditEvent], str]]:
    name = repo.repository
    runs: dict[str, Item] = {}
    for page in repo.run_pages:
        events = []
        for run in page:
            events.append(run_event(run, INSTANCE, repository=name, oddities=notes))
            runs[str(run["id"])] = compact_run(run, name)
        yield events, cursor_key(INSTANCE, name, "runs")
    for listed in repo.deployment_pages:
        yield (
            _deployment_page(repo, listed, runs, notes),
            cursor_key(INSTANCE, name, "deployments"),
        )


def _deployment_page(
    repo: RepoPayloads, listed: list[Deployed], runs: dict[str, Item], notes: Oddities
) -> list[AuditEvent]:
    name = repo.repository
    events: list[AuditEvent] = []
    by_run: dict[str, list[Item]] = {}
    for item in listed:
        events += deployment_events(
            item.deployment, item.statuses, INSTANCE, repository=name, oddities=notes
        )
        run_id = deployment_run_id(item.statuses)
        if run_id is not None:
            by_run.setdefault(run_id, []).append(compact_deployment(item.deployment))
        for pull, reviews in item.pulls:
            events += review_events(
                pull, reviews, item.deployment, INSTANCE, repository=name, oddities=notes
            )
    for run_id in sorted(by_run):
        run = runs.get(run_id, {"id": run_id})
        events += approval_events(
            repo.approvals.get(run_id, []),
            run,
            by_run[run_id],
            INSTANCE,
            repository=name,
            oddities=notes,
        )
    return events


def _cursor(events: list[AuditEvent]) -> str:
    """A cursor of the size the collector stores with each batch."""
    times = [event.occurred_at for event in events] or [EPOCH]
    return SourceCursor(Span(min(times), max(times)), ETAG, min(times)).dumps()


def measure_once(payloads: list[RepoPayloads]) -> Throughput:
    cpu = time.process_time()
    batches = [(events, {key: _cursor(events)}) for events, key in normalized_batches(payloads)]
    normalize_cpu = time.process_time() - cpu
    with tempfile.TemporaryDirectory(prefix="pipeledger-bench-") as scratch:
        ledger = SqliteSink(Path(scratch) / "ledger.db")
        cpu = time.process_time()
        stored = sum(len(ledger.append(events, cursors)) for events, cursors in batches)
        append_cpu = time.process_time() - cpu
        ledger.close()
    return Throughput(stored, len(batches), normalize_cpu, append_cpu)


def measure(payloads: list[RepoPayloads], repeats: int = 3) -> Throughput:
    """Best of ``repeats``: on a shared machine the fastest run is the least disturbed."""
    runs = [measure_once(payloads) for _ in range(repeats)]
    return Throughput(
        runs[0].events,
        runs[0].batches,
        min(run.normalize_cpu for run in runs),
        min(run.append_cpu for run in runs),
    )
