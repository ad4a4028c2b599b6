"""Findings of ``audit`` recorded as verdict events (``gate.decision``, attributes
``command: audit``), so a SIEM sink receives them like the gate's own — as OCSF Compliance
Findings where that format is chosen. One event per judged subject that has findings; ids
are stable per policy, subject and findings, so auditing the same history twice adds
nothing."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from pipeledger.events import AuditEvent, EventKind, Source, event_id
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.policy.model import Finding

AUDIT_ENDPOINT = "pipeledger/audit/decision"


def audit_decisions(
    findings: Iterable[Finding],
    events_by_id: Mapping[str, AuditEvent],
    loaded: LoadedPolicy,
    now: datetime,
) -> list[AuditEvent]:
    by_subject: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        by_subject[(finding.subject.kind, finding.subject.key)].append(finding)
    decisions = []
    for group in by_subject.values():
        anchor = next(
            (events_by_id[e] for f in group for e in f.evidence if e in events_by_id), None
        )
        if anchor is not None:
            decisions.append(_decision(group, anchor, loaded, now))
    return decisions


def _decision(
    group: list[Finding], anchor: AuditEvent, loaded: LoadedPolicy, now: datetime
) -> AuditEvent:
    subject = group[0].subject
    fingerprints = sorted(f.fingerprint for f in group)
    digest = hashlib.sha256("\n".join(fingerprints).encode()).hexdigest()[:16]
    native = f"{loaded.policy.sha256[:16]}/{subject.kind}/{subject.key}/{digest}"
    correlation = {k: v for k, v in anchor.correlation.items() if v}
    return AuditEvent(
        id=event_id(anchor.platform, anchor.instance, AUDIT_ENDPOINT, native),
        kind=EventKind.GATE_DECISION,
        action="fail",
        occurred_at=now,
        platform=anchor.platform,
        instance=anchor.instance,
        actor=anchor.actor,
        scope=anchor.scope,
        source=Source(endpoint=AUDIT_ENDPOINT, native_id=native),
        ref=anchor.ref,
        sha=anchor.sha,
        outcome="fail",
        correlation=correlation,
        links={"subject": subject.url} if subject.url else {},
        attributes={
            "command": "audit",
            "policy_file": loaded.policy.path,
            "policy_sha256": loaded.policy.sha256,
            "subject": subject.to_dict(),
            "findings": [f.to_dict() for f in group],
        },
    )
