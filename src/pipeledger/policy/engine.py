"""Runs every rule over its subjects (deployments, or single events) and collects findings
and per-rule tallies. Rules return violations; nothing here raises for one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeledger.events import AuditEvent
from pipeledger.policy.context import DeploymentContext, repository_of
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.policy.model import FailOn, Finding, RuleSpec, Subject, Violation
from pipeledger.policy.rules.base import EvaluationEnv, Rule


@dataclass
class RuleResult:
    spec: RuleSpec
    evaluated: int = 0
    findings: list[Finding] = field(default_factory=list)
    # Filled only when a format lists passing subjects too (JUnit).
    subjects: list[Subject] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "rule_id": self.spec.id,
            "rule_type": self.spec.type,
            "severity": self.spec.severity.value,
            "evaluated": self.evaluated,
            "violations": len(self.findings),
        }


@dataclass
class Evaluation:
    """``deployments`` judged, and ``events``: every distinct event the verdict rests on —
    each deployment's own events (statuses, run, approvals, reviews) and the single events
    (permission and protection changes, …) the rules judged."""

    results: list[RuleResult]
    deployments: int = 0
    events: int = 0

    @property
    def findings(self) -> list[Finding]:
        every = [f for result in self.results for f in result.findings]
        return sorted(every, key=lambda f: (-f.severity.rank, f.rule_id, f.subject.key))

    def fails(self, fail_on: FailOn) -> bool:
        return any(fail_on.fails(f.severity) for r in self.results for f in r.findings)


def evaluate(
    loaded: LoadedPolicy,
    contexts: Sequence[DeploymentContext],
    events: Iterable[AuditEvent],
    env: EvaluationEnv,
    *,
    keep_subjects: bool = False,
) -> Evaluation:
    results = [RuleResult(spec=rule.spec) for rule in loaded.rules]
    pairs = list(zip(loaded.rules, results, strict=True))
    deployment_pairs = [(rule, result) for rule, result in pairs if rule.judges_deployments]
    for ctx in contexts:
        subject: Subject | None = None
        for rule, result in deployment_pairs:
            if not rule.selects_deployment(ctx):
                continue
            subject = subject or ctx.subject
            _record(result, rule, subject, rule.check_deployment(ctx, env), keep_subjects)
    event_list = list(events)
    by_kind = {rule.spec.id: frozenset(rule.event_kinds) for rule in loaded.rules}
    for event in event_list:
        for rule, result in pairs:
            if event.kind in by_kind[rule.spec.id] and rule.selects_event(event):
                subject = event_subject(event)
                _record(result, rule, subject, rule.check_event(event, env), keep_subjects)
    return Evaluation(
        results=results, deployments=len(contexts), events=_events_read(contexts, event_list)
    )


def _events_read(contexts: Sequence[DeploymentContext], singles: list[AuditEvent]) -> int:
    ids = {event.id for event in singles}
    for ctx in contexts:
        ids.update(event.id for event in (ctx.deployment, *ctx.statuses, *ctx.approvals))
        ids.update(event.id for event in ctx.reviews)
        if ctx.run is not None:
            ids.add(ctx.run.id)
    return len(ids)


def _record(
    result: RuleResult,
    rule: Rule,
    subject: Subject,
    violations: Iterable[Violation],
    keep_subjects: bool,
) -> None:
    result.evaluated += 1
    if keep_subjects:
        result.subjects.append(subject)
    for violation in violations:
        result.findings.append(_finding(rule, subject, violation))


def _finding(rule: Rule, subject: Subject, violation: Violation) -> Finding:
    spec = rule.spec
    return Finding(
        rule_id=spec.id,
        rule_type=spec.type,
        severity=spec.severity,
        message=violation.message,
        subject=subject,
        evidence=tuple(dict.fromkeys(violation.evidence)),
        links=tuple(dict.fromkeys(violation.links)),
        remedy=violation.remedy or spec.remedy or rule.default_remedy,
        docs_url=spec.docs_url,
        rule_line=spec.line,
    )


def event_subject(event: AuditEvent) -> Subject:
    return Subject(
        kind=event.kind.value,
        key=event.id,
        repository=repository_of(event),
        environment=event.scope.environment,
        ref=event.ref,
        sha=event.sha,
        run_id=event.correlation.get("run_id"),
        url=event.links.get("html"),
    )
