"""The four keys over a period, overall and per repository."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeledger.dora._definitions import DEFINITIONS
from pipeledger.dora.deploys import (
    DoraSettings,
    FailureCause,
    ProductionDeploy,
    ProductionSummary,
    production_deploys,
)
from pipeledger.dora.stats import summary
from pipeledger.events import parse_time
from pipeledger.period import Period
from pipeledger.policy.deployment_context import DeploymentContext

METRICS_SCHEMA = "pipeledger/metrics/v1"


@dataclass(frozen=True)
class LeadTime:
    deploy: ProductionDeploy
    seconds: float
    basis: str  # "pull_request_created" or "first_review"


@dataclass(frozen=True)
class ScopeMetrics:
    """The four keys for one repository, or for all of them."""

    days: float
    live: int
    finished: int
    failed: int
    causes: dict[str, int]
    lead_times: tuple[float, ...]
    lead_bases: dict[str, int]
    without_start: int
    restore_times: tuple[float, ...]
    not_restored: int

    def to_dict(self) -> dict[str, Any]:
        rate = self.failed / self.finished if self.finished else None
        return {
            "deployment_frequency": {
                "deployments": self.live,
                "per_day": round(self.live / self.days, 4) if self.days else None,
                "per_week": round(self.live * 7 / self.days, 4) if self.days else None,
            },
            "lead_time": {
                **summary(self.lead_times),
                "by_start": dict(sorted(self.lead_bases.items())),
                "without_start": self.without_start,
            },
            "change_failure_rate": {
                "finished": self.finished,
                "failed": self.failed,
                "rate": round(rate, 4) if rate is not None else None,
                "by_cause": {
                    cause.value: self.causes.get(cause.value, 0) for cause in FailureCause
                },
            },
            "time_to_restore": {
                **summary(self.restore_times),
                "not_restored": self.not_restored,
            },
        }


@dataclass(frozen=True)
class DoraMetrics:
    period: Period
    settings: DoraSettings
    deploys: tuple[ProductionDeploy, ...]  # every production deploy in the period
    overall: ScopeMetrics
    repositories: dict[str, ScopeMetrics]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": METRICS_SCHEMA,
            "period": self.period.to_dict(),
            "settings": self.settings.to_dict(),
            "definitions": DEFINITIONS,
            "overall": self.overall.to_dict(),
            "repositories": {name: m.to_dict() for name, m in sorted(self.repositories.items())},
        }


def compute_metrics(
    contexts: Iterable[DeploymentContext],
    period: Period,
    settings: DoraSettings,
    summaries: Iterable[ProductionSummary] = (),
) -> DoraMetrics:
    """``summaries``: production deployments outside ``contexts`` known only by summary (see
    :class:`pipeledger.dora.deploys.ProductionDeploy`); the result is the same as with their
    contexts, when the contexts hold every deployment that counts in the period or went live
    up to the failure window after it."""
    every = production_deploys(contexts, settings, summaries)
    lead = _lead_times(every, period)
    in_period = [d for d in every if period.contains(d.moment)]
    by_repo: dict[str, list[ProductionDeploy]] = defaultdict(list)
    for deploy in in_period:
        by_repo[deploy.repository].append(deploy)
    return DoraMetrics(
        period=period,
        settings=settings,
        deploys=tuple(in_period),
        overall=_scope(in_period, lead, period),
        repositories={repo: _scope(group, lead, period) for repo, group in by_repo.items()},
    )


def _scope(
    deploys: Sequence[ProductionDeploy], lead: dict[str, LeadTime | None], period: Period
) -> ScopeMetrics:
    finished = [d for d in deploys if d.finished]
    failed = [d for d in finished if d.cause is not None]
    causes: dict[str, int] = defaultdict(int)
    for deploy in failed:
        assert deploy.cause is not None
        causes[deploy.cause.value] += 1
    measured = [lead[d.key] for d in deploys if d.key in lead]
    bases: dict[str, int] = defaultdict(int)
    for entry in measured:
        if entry is not None:
            bases[entry.basis] += 1
    restored = [d for d in failed if d.restored_at is not None and d.failure_started_at]
    return ScopeMetrics(
        days=period.days,
        live=sum(1 for d in deploys if d.live),
        finished=len(finished),
        failed=len(failed),
        causes=dict(causes),
        lead_times=tuple(e.seconds for e in measured if e is not None),
        lead_bases=dict(bases),
        without_start=sum(1 for e in measured if e is None),
        restore_times=tuple(
            (d.restored_at - d.failure_started_at).total_seconds()
            for d in restored
            if d.restored_at and d.failure_started_at
        ),
        not_restored=len(failed) - len(restored),
    )


def _lead_times(deploys: Sequence[ProductionDeploy], period: Period) -> dict[str, LeadTime | None]:
    """Each commit's first successful production deploy per repository (in the period), with
    its lead time, or None when the ledger holds no start for its change."""
    seen: set[tuple[str, str]] = set()
    found: dict[str, LeadTime | None] = {}
    for deploy in deploys:
        if deploy.succeeded_at is None or not deploy.sha:
            continue
        commit = (deploy.repository, deploy.sha)
        if commit in seen:
            continue
        seen.add(commit)
        if period.contains(deploy.succeeded_at):
            found[deploy.key] = lead_time(deploy)
    return found


def lead_time(deploy: ProductionDeploy) -> LeadTime | None:
    assert deploy.succeeded_at is not None and deploy.context is not None
    start, basis = change_start(deploy.context)
    if start is None or start > deploy.succeeded_at:
        return None
    return LeadTime(deploy, (deploy.succeeded_at - start).total_seconds(), basis)


def change_start(ctx: DeploymentContext) -> tuple[datetime | None, str]:
    """When the deployed change began, as far as the ledger knows, and on what basis."""
    opened = [t for r in ctx.reviews if (t := _time((r.target or {}).get("created_at")))]
    if opened:
        return min(opened), "pull_request_created"
    if ctx.reviews:
        return min(r.occurred_at for r in ctx.reviews), "first_review"
    return None, "none"


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None
