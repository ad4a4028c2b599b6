"""One deployment's evidence: its provenance (trigger, approvals, review, protection in force,
access changes of the people involved), the policy's verdicts and the anomaly alerts about it,
and why it was sampled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pipeledger.events import AuditEvent
from pipeledger.evidence_pack._index import EvidenceIndex, anomalies_of, deployment_place
from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.model import Finding
from pipeledger.provenance import Provenance, concerns, involved, protections_in_force
from pipeledger.snapshots import CursorLister

BYPASS_BEFORE = timedelta(days=1)
BYPASS_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class DeploymentEvidence:
    provenance: Provenance
    findings: tuple[Finding, ...]
    anomalies: tuple[AuditEvent, ...]
    reasons: tuple[str, ...]
    page: str

    @property
    def context(self) -> DeploymentContext:
        return self.provenance.context


def bypasses_of(index: EvidenceIndex, ctx: DeploymentContext) -> list[AuditEvent]:
    """Protection bypasses in the deployment's repository from a day before to an hour
    after it."""
    timeline = index.timeline(index.bypasses, deployment_place(ctx))
    return timeline.between(ctx.when - BYPASS_BEFORE, ctx.when + BYPASS_AFTER)


def provenance_of(
    index: EvidenceIndex,
    ctx: DeploymentContext,
    ledger: CursorLister | None,
    lookback: timedelta,
) -> Provenance:
    people = involved(ctx)
    protections, observed = protections_in_force(ctx, ledger)
    found = Provenance(
        context=ctx,
        people=people,
        gate_decisions=tuple(_gate_decisions(index, ctx)),
        bypasses=tuple(bypasses_of(index, ctx)),
        protections=protections,
        protections_observed_at=observed,
        access_changes=tuple(_access_changes(index, ctx, people, lookback)),
    )
    return Provenance(**{**found.__dict__, "concerns": tuple(concerns(found))})


def evidence_of(
    index: EvidenceIndex,
    ctx: DeploymentContext,
    *,
    ledger: CursorLister | None,
    lookback: timedelta,
    findings: Sequence[Finding],
    reasons: Sequence[str],
    page: str,
) -> DeploymentEvidence:
    return DeploymentEvidence(
        provenance=provenance_of(index, ctx, ledger, lookback),
        findings=tuple(findings),
        anomalies=tuple(anomalies_of(index, ctx)),
        reasons=tuple(reasons),
        page=page,
    )


def _gate_decisions(index: EvidenceIndex, ctx: DeploymentContext) -> list[AuditEvent]:
    if ctx.run_id is None:
        return []
    return index.gate_decisions.get((deployment_place(ctx), ctx.run_id), [])


def _access_changes(
    index: EvidenceIndex,
    ctx: DeploymentContext,
    people: dict[str, tuple[str, ...]],
    lookback: timedelta,
) -> list[AuditEvent]:
    """Permission changes of the people involved (anywhere under the owner) and protection
    changes of the repository, in the ``lookback`` before the deployment."""
    start, end = ctx.when - lookback, ctx.when
    deployment = ctx.deployment
    chosen: list[AuditEvent] = []
    for login in {login.lower() for login in people}:
        timeline = index.access_of(deployment.platform, deployment.scope.owner, login)
        chosen += timeline.between(start, end)
    platform, owner, _ = deployment_place(ctx)
    for place in (deployment_place(ctx), (platform, owner, None)):
        chosen += index.timeline(index.protection_changes, place).between(start, end)
    return sorted(chosen, key=lambda e: e.occurred_at)
