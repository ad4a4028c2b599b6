"""Which deployments get an evidence page: every one with a violation, an anomaly, a bypass or
outside the team's usual hours, plus a seeded random sample of the rest."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pipeledger.policy.deployment_context import DeploymentContext

VIOLATION = "policy violation"
ANOMALY = "anomaly alert"
BYPASS = "protection bypass"
OFF_HOURS = "outside usual hours"
RANDOM = "random sample"
SAMPLING_METHOD = (
    "Every deployment in the period with a policy violation, an anomaly alert, a protection"
    " bypass in its repository from 24 h before to 1 h after it, or outside the team's usual"
    " hours; plus, of the others ordered by repository and deployment id, random.Random(seed)"
    ".sample(others, min(size, len(others))) with Python's Mersenne Twister."
)


@dataclass(frozen=True)
class Sampled:
    context: DeploymentContext
    reasons: tuple[str, ...]


def context_key(ctx: DeploymentContext) -> str:
    """Unique and stable: repository and deployment id, then the event id."""
    return f"{ctx.repository or '-'}#{ctx.deployment_key}"


def draw_sample(
    contexts: Sequence[DeploymentContext],
    reasons_of: Callable[[DeploymentContext], list[str]],
    size: int,
    seed: int,
) -> list[Sampled]:
    flagged: list[Sampled] = []
    others: list[DeploymentContext] = []
    for ctx in contexts:
        reasons = reasons_of(ctx)
        if reasons:
            flagged.append(Sampled(ctx, tuple(reasons)))
        else:
            others.append(ctx)
    others.sort(key=lambda c: (context_key(c), c.deployment.id))
    chosen = random.Random(seed).sample(others, min(size, len(others)))  # noqa: S311 - a sample, not a secret
    picked = flagged + [Sampled(ctx, (RANDOM,)) for ctx in chosen]
    return sorted(picked, key=lambda s: (s.context.when, context_key(s.context)))


def reasons_for(
    ctx: DeploymentContext,
    *,
    violations: Mapping[str, object],
    anomalies: bool,
    bypassed: bool,
    off_hours: bool,
) -> list[str]:
    reasons = []
    if context_key(ctx) in violations:
        reasons.append(VIOLATION)
    if anomalies:
        reasons.append(ANOMALY)
    if bypassed:
        reasons.append(BYPASS)
    if off_hours:
        reasons.append(OFF_HOURS)
    return reasons
