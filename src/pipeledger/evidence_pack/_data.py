"""Everything the pack shows, as one JSON document (``data.json``, schema
``schemas/evidence-pack.v1.schema.json``); the HTML pages and CSV files are rendered from it,
so they cannot disagree."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeledger import __version__
from pipeledger.dora import compute_metrics
from pipeledger.dora.deploys import ProductionSummary
from pipeledger.events import AuditEvent, EventKind, format_time
from pipeledger.evidence_pack._evidence import bypasses_of, evidence_of
from pipeledger.evidence_pack._index import (
    ANOMALY_KIND,
    EvidenceIndex,
    acknowledgement_of,
    anomalies_of,
    index_events,
)
from pipeledger.evidence_pack._sampling import (
    SAMPLING_METHOD,
    Sampled,
    context_key,
    draw_sample,
    reasons_for,
)
from pipeledger.evidence_pack._summary import approval_coverage, coverage, weekly_rows
from pipeledger.evidence_pack.controls import ControlMapping
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.policy.audit import audit_events
from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.model import Finding
from pipeledger.sinks.contract import ChainCheckpoint
from pipeledger.snapshots import CursorLister

DATA_SCHEMA = "pipeledger/evidence-pack/v1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class LedgerState:
    """The ledger the pack was built from, as verified just before."""

    url: str
    chain_id: str
    head_seq: int
    head_hash: str
    checkpoint: ChainCheckpoint | None
    verified_records: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "chain_id": self.chain_id,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "checkpoint": self.checkpoint.to_dict() if self.checkpoint else None,
            "verified_records": self.verified_records,
        }


def build_data(
    events: Sequence[AuditEvent],
    state: LedgerState,
    options: PackOptions,
    controls: ControlMapping,
    ledger: CursorLister | None,
    *,
    coverage_rows: list[dict[str, Any]] | None = None,
    summaries: Sequence[ProductionSummary] = (),
) -> dict[str, Any]:
    """``events``: the whole ledger's standing facts, or what
    :func:`pipeledger.evidence_pack._reading.read_period` keeps of them with its
    ``coverage_rows`` (counted over every event) and ``summaries`` (the production
    deployments DORA knows by summary only)."""
    period = options.period
    index = index_events(events)
    chosen = [c for c in index.contexts if period.contains(c.when) and _selected(c, options)]
    findings = _findings(events, index, options)
    by_deployment = _findings_by_deployment(findings)
    sample = draw_sample(
        chosen,
        lambda ctx: reasons_for(
            ctx,
            violations=by_deployment,
            anomalies=bool(anomalies_of(index, ctx)),
            bypassed=bool(bypasses_of(index, ctx)),
            off_hours=options.hours.outside(ctx.when),
        ),
        options.sample_size,
        options.seed,
    )
    dora = compute_metrics(index.contexts, period, options.dora_settings, summaries)
    production = [c for c in chosen if dora.settings.is_production(c.environment)]
    in_period = [e for e in events if period.contains(e.occurred_at)]
    changes = [
        e for e in in_period if e.kind in (EventKind.PERMISSION_CHANGE, EventKind.PROTECTION_CHANGE)
    ]
    anomalies = [a for a in index.anomalies if period.contains(a.occurred_at)]
    sampled_keys = {context_key(s.context): s.reasons for s in sample}
    cited: dict[str, AuditEvent] = {e.id: e for e in (*changes, *anomalies)}
    evidence = [_evidence(index, s, by_deployment, options, ledger, cited) for s in sample]
    acknowledgements = _acknowledgements(index, cited)
    return {
        "schema": DATA_SCHEMA,
        "generated_at": format_time(options.generated_at),
        "tool": {"name": "pipeledger", "version": __version__},
        "period": period.to_dict(),
        "environment": options.environment,
        "ledger": state.to_dict(),
        "policy": _policy(options),
        "summary": {
            "deployments": len(chosen),
            "by_environment": _count_by(c.environment or "(none)" for c in chosen),
            "approval_coverage": approval_coverage(production),
            "findings": _count_by(f.severity.value for f in findings),
            "anomalies": len(anomalies),
            "permission_changes": sum(e.kind is EventKind.PERMISSION_CHANGE for e in changes),
            "protection_changes": sum(e.kind is EventKind.PROTECTION_CHANGE for e in changes),
            "weekly": weekly_rows(
                period, chosen, _finding_times(findings, chosen, in_period), anomalies, changes
            ),
        },
        "coverage": coverage(events, period) if coverage_rows is None else coverage_rows,
        "dora": dora.to_dict(),
        "controls": {
            "source": controls.source,
            "entries": [c.to_dict() for c in controls.controls],
        },
        "sample": {
            "seed": options.seed,
            "size": options.sample_size,
            "method": SAMPLING_METHOD,
            "working_hours": options.hours.describe(),
            "deployments": [_sample_row(s) for s in sample],
        },
        "deployments": [_deployment_row(c, by_deployment, sampled_keys) for c in chosen],
        "findings": [f.to_dict() for f in findings],
        "changes": [e.id for e in changes],
        "anomalies": [a.id for a in anomalies],
        "acknowledgements": acknowledgements,
        "evidence": evidence,
        "events": EventDicts(dict(sorted(cited.items()))),
    }


class EventDicts(Mapping[str, dict[str, Any]]):
    """``data["events"]``: each cited event as a dict, made when it is read and not held —
    the cited events are held anyway, and their dicts would be far larger (a year of a
    1,000,000-event ledger cites some 70,000, 110 MB of dicts). ``dict(...)`` of it is the
    plain mapping :func:`pipeledger.json_codec.dumps_sorted` takes."""

    def __init__(self, events: dict[str, AuditEvent]) -> None:
        self._events = events

    def __getitem__(self, event_id: str) -> dict[str, Any]:
        return self._events[event_id].to_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)


def _acknowledgements(index: EvidenceIndex, cited: dict[str, AuditEvent]) -> dict[str, str]:
    """Each cited anomaly alert's acknowledgement, by the alert's event id; the
    acknowledgements are cited too."""
    found: dict[str, str] = {}
    for alert in [e for e in cited.values() if e.kind.value == ANOMALY_KIND]:
        ack = acknowledgement_of(index, alert)
        if ack is not None:
            cited[ack.id] = ack
            found[alert.id] = ack.id
    return dict(sorted(found.items()))


def page_name(ctx: DeploymentContext) -> str:
    """The evidence page of a deployment, unique by its event id."""
    name = _UNSAFE.sub("-", f"{ctx.repository or ctx.deployment.scope.owner}-{ctx.deployment_key}")
    return f"deployments/{name.strip('-')}-{ctx.deployment.id[:8]}.html"


def _selected(ctx: DeploymentContext, options: PackOptions) -> bool:
    wanted = options.environment
    return wanted is None or (ctx.environment or "").lower() == wanted.lower()


def _findings(
    events: Sequence[AuditEvent], index: EvidenceIndex, options: PackOptions
) -> list[Finding]:
    if options.policy is None:
        return []
    period = options.period
    evaluation = audit_events(
        options.policy, events, period.start, period.end, contexts=index.contexts
    )
    wanted = (options.environment or "").lower()
    return [
        f
        for f in evaluation.findings
        if not wanted
        or f.subject.kind != "deployment"
        or (f.subject.environment or "").lower() == wanted
    ]


def subject_key(finding: Finding) -> str:
    return f"{finding.subject.repository or '-'}#{finding.subject.key}"


def _findings_by_deployment(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.subject.kind == "deployment":
            found[subject_key(finding)].append(finding)
    return dict(found)


def _finding_times(
    findings: Sequence[Finding],
    deployments: Sequence[DeploymentContext],
    events: Sequence[AuditEvent],
) -> list[tuple[datetime, str]]:
    when = {context_key(c): c.when for c in deployments}
    when.update({e.id: e.occurred_at for e in events})
    times = []
    for finding in findings:
        key = subject_key(finding) if finding.subject.kind == "deployment" else finding.subject.key
        if key in when:
            times.append((when[key], finding.severity.value))
    return times


def _policy(options: PackOptions) -> dict[str, Any] | None:
    if options.policy is None:
        return None
    policy = options.policy.policy
    return {
        "path": policy.path,
        "sha256": policy.sha256,
        "rules": [{"id": r.id, "type": r.type, "severity": r.severity.value} for r in policy.rules],
    }


def _count_by(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(sorted(counts.items()))


def _sample_row(sampled: Sampled) -> dict[str, Any]:
    ctx = sampled.context
    return {
        "key": context_key(ctx),
        "repository": ctx.repository,
        "environment": ctx.environment,
        "at": format_time(ctx.when),
        "deployer": ctx.deployer.login,
        "reasons": list(sampled.reasons),
        "page": page_name(ctx),
    }


def _deployment_row(
    ctx: DeploymentContext,
    findings: dict[str, list[Finding]],
    sampled: dict[str, tuple[str, ...]],
) -> dict[str, Any]:
    key = context_key(ctx)
    return {
        "key": key,
        "repository": ctx.repository,
        "environment": ctx.environment,
        "at": format_time(ctx.when),
        "ref": ctx.ref,
        "sha": ctx.sha,
        "deployer": ctx.deployer.login,
        "approvers": sorted({a.actor.login or "" for a in ctx.approvals if a.action == "approved"}),
        "reviewers": sorted({r.actor.login or "" for r in ctx.reviews}),
        "outcome": _outcome(ctx),
        "findings": [f.rule_id for f in findings.get(key, [])],
        "sampled": key in sampled,
        "link": ctx.subject.url,
    }


def _outcome(ctx: DeploymentContext) -> str | None:
    finals = [s for s in ctx.statuses if s.outcome]
    return finals[-1].outcome if finals else None


def _evidence(
    index: EvidenceIndex,
    sampled: Sampled,
    findings: dict[str, list[Finding]],
    options: PackOptions,
    ledger: CursorLister | None,
    cited: dict[str, AuditEvent],
) -> dict[str, Any]:
    """One sampled deployment's evidence; its events are cited by id (``events`` holds them
    once, however many pages cite them)."""
    ctx = sampled.context
    found = evidence_of(
        index,
        ctx,
        ledger=ledger,
        lookback=options.lookback,
        findings=findings.get(context_key(ctx), []),
        reasons=sampled.reasons,
        page=page_name(ctx),
    )
    prov = found.provenance

    def cite(events: Sequence[AuditEvent]) -> list[str]:
        for event in events:
            cited[event.id] = event
        return [event.id for event in events]

    observed = prov.protections_observed_at
    return {
        "key": context_key(ctx),
        "page": found.page,
        "reasons": list(found.reasons),
        "deployment": {
            "id": ctx.deployment_key,
            "repository": ctx.repository,
            "environment": ctx.environment,
            "ref": ctx.ref,
            "sha": ctx.sha,
            "at": format_time(ctx.when),
            "statuses": cite(ctx.statuses),
        },
        "run": cite([ctx.run])[0] if ctx.run is not None else None,
        "approvals": cite(ctx.approvals),
        "reviews": cite(ctx.reviews),
        "gate_decisions": cite(prov.gate_decisions),
        "bypasses": cite(prov.bypasses),
        "protections_in_force": {
            "observed_at": format_time(observed) if observed else None,
            "rules": [rule.to_dict() for rule in prov.protections],
        },
        "access_changes": cite(prov.access_changes),
        "people": {login: list(parts) for login, parts in prov.people.items()},
        "concerns": list(prov.concerns),
        "findings": [f.fingerprint for f in found.findings],
        "anomalies": cite(found.anomalies),
        "links": _links(ctx),
    }


def _links(ctx: DeploymentContext) -> dict[str, str]:
    links = {f"deployment {k}": v for k, v in ctx.deployment.links.items()}
    if ctx.run is not None:
        links.update({f"run {k}": v for k, v in ctx.run.links.items()})
    for review in ctx.reviews:
        links.update({f"review {k}": v for k, v in review.links.items()})
    return dict(sorted(links.items()))
