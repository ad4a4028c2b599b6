"""Production deployments as DORA counts them: when each went live or failed, and which later
deploy rolled it back or fixed it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property

from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.globs import GlobSet

SUCCESS_STATES = frozenset({"success"})
FAILURE_STATES = frozenset({"failure", "error", "failed"})
DEFAULT_PRODUCTION = ("prod", "prod-*", "prod_*", "production", "production-*", "live")
DEFAULT_HOTFIX_REFS = ("hotfix/*", "hotfix-*", "revert-*")
DEFAULT_FAILURE_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class DoraSettings:
    """What counts as production, and how long after a deploy a rollback or fix blames it."""

    production: tuple[str, ...] = DEFAULT_PRODUCTION
    hotfix_refs: tuple[str, ...] = DEFAULT_HOTFIX_REFS
    failure_window: timedelta = DEFAULT_FAILURE_WINDOW

    def is_production(self, environment: str | None) -> bool:
        return self._production_globs.matches(environment)

    @cached_property
    def _production_globs(self) -> GlobSet:
        return GlobSet(self.production, ignore_case=True)

    def to_dict(self) -> dict[str, object]:
        return {
            "production_environments": list(self.production),
            "hotfix_refs": list(self.hotfix_refs),
            "failure_window_hours": self.failure_window.total_seconds() / 3600,
        }


class FailureCause(StrEnum):
    FAILED_STATUS = "failed_status"
    ROLLBACK = "rollback"
    REVERT_OR_HOTFIX = "revert_or_hotfix"


@dataclass(frozen=True, slots=True)
class ProductionSummary:
    """A production deployment as far as DORA needs it when it does not count in the period
    itself: what a reader that does not keep the deployment's events (the evidence pack,
    :mod:`pipeledger.evidence_pack._reading`) knows of it from its status events."""

    repository: str  # the repository's full name, else the owner
    environment: str
    deployment_key: str
    when: datetime
    sha: str | None
    succeeded_at: datetime | None
    failed_at: datetime | None


@dataclass
class ProductionDeploy:
    """One production deployment and what the ledger says happened to it. ``context`` is
    None for a deployment known by its :class:`ProductionSummary` only: then it does not
    count in the period, and only its times and commit are used."""

    context: DeploymentContext | None
    repository: str
    environment: str
    succeeded_at: datetime | None
    failed_at: datetime | None
    deployment_key: str
    when: datetime
    sha: str | None
    cause: FailureCause | None = None
    # The failure's start (its failed status, or when the deploy that was later rolled back
    # or fixed went live) and the next successful deploy of the same environment after it.
    failure_started_at: datetime | None = None
    restored_at: datetime | None = None
    fixes: list[ProductionDeploy] = field(default_factory=list, repr=False)

    @property
    def key(self) -> str:
        return f"{self.repository}#{self.deployment_key}"

    @property
    def moment(self) -> datetime:
        """When the deploy counts: when it went live, failed, or (neither) was created."""
        return self.succeeded_at or self.failed_at or self.when

    @property
    def live(self) -> bool:
        return self.succeeded_at is not None

    @property
    def finished(self) -> bool:
        return self.succeeded_at is not None or self.failed_at is not None


def production_deploys(
    contexts: Iterable[DeploymentContext],
    settings: DoraSettings,
    summaries: Iterable[ProductionSummary] = (),
) -> list[ProductionDeploy]:
    """Every production deployment, in time order, each marked failed or not; ``summaries``
    are production deployments outside ``contexts`` that the caller knows only by summary
    (see :class:`ProductionDeploy`)."""
    deploys = [_deploy(ctx) for ctx in contexts if settings.is_production(ctx.environment)]
    deploys += [_summarized(summary) for summary in summaries]
    deploys.sort(key=lambda d: (d.moment, d.key))
    by_place: dict[tuple[str, str], list[ProductionDeploy]] = defaultdict(list)
    for deploy in deploys:
        by_place[(deploy.repository, deploy.environment.lower())].append(deploy)
    hotfix = GlobSet(settings.hotfix_refs, ignore_case=True)
    for place in by_place.values():
        _mark_failures(place, hotfix, settings.failure_window)
    return deploys


def _deploy(ctx: DeploymentContext) -> ProductionDeploy:
    return ProductionDeploy(
        context=ctx,
        repository=ctx.repository or ctx.deployment.scope.owner,
        environment=ctx.environment or "",
        succeeded_at=_first_status(ctx, SUCCESS_STATES),
        failed_at=_first_status(ctx, FAILURE_STATES),
        deployment_key=ctx.deployment_key,
        when=ctx.when,
        sha=ctx.sha,
    )


def _summarized(summary: ProductionSummary) -> ProductionDeploy:
    return ProductionDeploy(
        context=None,
        repository=summary.repository,
        environment=summary.environment,
        succeeded_at=summary.succeeded_at,
        failed_at=summary.failed_at,
        deployment_key=summary.deployment_key,
        when=summary.when,
        sha=summary.sha,
    )


def _first_status(ctx: DeploymentContext, states: frozenset[str]) -> datetime | None:
    times = [s.occurred_at for s in ctx.statuses if (s.outcome or s.action).lower() in states]
    return min(times) if times else None


def _mark_failures(place: Sequence[ProductionDeploy], hotfix: GlobSet, window: timedelta) -> None:
    for deploy in place:
        if deploy.failed_at is not None:
            deploy.cause = FailureCause.FAILED_STATUS
            deploy.failure_started_at = deploy.failed_at
    live = [d for d in place if d.succeeded_at is not None]
    for index, later in enumerate(live[1:], start=1):
        earlier = live[index - 1]
        assert later.succeeded_at is not None and earlier.succeeded_at is not None
        if later.succeeded_at - earlier.succeeded_at > window:
            continue
        cause = _blame(later, earlier, live[: index - 1], hotfix)
        if cause is None:
            continue
        earlier.fixes.append(later)
        if earlier.cause is None:
            earlier.cause = cause
            earlier.failure_started_at = earlier.succeeded_at
    for deploy in place:
        if deploy.failure_started_at is not None:
            deploy.restored_at = _next_success(live, deploy.failure_started_at)


def _blame(
    later: ProductionDeploy,
    earlier: ProductionDeploy,
    before: Sequence[ProductionDeploy],
    hotfix: GlobSet,
) -> FailureCause | None:
    """Why ``later`` says ``earlier`` was a bad change, if it does. A ``later`` known by its
    summary only went live outside the period and its failure window, so ``earlier`` does
    not count in the period either: whether ``later`` was a fix is not asked."""
    if later.sha and later.sha != earlier.sha and later.sha in {d.sha for d in before}:
        return FailureCause.ROLLBACK
    if later.context is not None and _is_fix(later.context, hotfix):
        return FailureCause.REVERT_OR_HOTFIX
    return None


def _is_fix(context: DeploymentContext, hotfix: GlobSet) -> bool:
    ref = (context.ref or "").removeprefix("refs/heads/")
    if ref and hotfix.matches(ref):
        return True
    for review in context.reviews:
        title = str(review.attributes.get("title") or (review.target or {}).get("title") or "")
        if title.lower().startswith("revert"):
            return True
    return False


def _next_success(live: Sequence[ProductionDeploy], after: datetime) -> datetime | None:
    for deploy in live:
        if deploy.succeeded_at is not None and deploy.succeeded_at > after:
            return deploy.succeeded_at
    return None
