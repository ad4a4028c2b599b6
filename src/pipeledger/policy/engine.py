"""Runs every rule over its subjects (deployments, or single events) and collects findings
and per-rule tallies. Rules return violations; nothing here raises for one."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pipeledger.events import AuditEvent
from pipeledger.policy.deployment_context import DeploymentContext, interned, repository_of
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.policy.model import FailOn, Finding, RuleSpec, Subject, Violation
from pipeledger.policy.rules.base import EvaluationEnv, Rule
from pipeledger.timeutil import epoch_micros

T = TypeVar("T")


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


# Where a judged subject falls in the verdict's order: deployments by (time, key, the chain
# position of their first status), then single events in chain order — the order an audit of
# the whole history in memory gives, however the subjects were read.
Place = tuple[Any, ...]


class Judge:
    """Judges subjects one at a time, as a streaming reader assembles them, and keeps only
    the findings (and, when asked, the judged subjects); :meth:`finish` puts them in the
    order :func:`evaluate` gives."""

    def __init__(
        self, loaded: LoadedPolicy, env: EvaluationEnv, *, keep_subjects: bool = False
    ) -> None:
        self.results = [RuleResult(spec=rule.spec) for rule in loaded.rules]
        self._pairs = list(zip(loaded.rules, self.results, strict=True))
        self._deployment_pairs = [(r, res) for r, res in self._pairs if r.judges_deployments]
        self._by_kind = {rule.spec.id: frozenset(rule.event_kinds) for rule in loaded.rules}
        self._env = env
        self._keep_subjects = keep_subjects
        self._places: dict[int, tuple[_Places, _Places]] = {
            id(result): (_Places(), _Places()) for result in self.results
        }
        self.deployments = 0

    def deployment(self, ctx: DeploymentContext, first_seq: int = 0) -> list[Finding]:
        """Judge one deployment; returns the findings it got."""
        self.deployments += 1
        place: Place = (0, ctx.when, ctx.deployment_key, first_seq)
        found: list[Finding] = []
        subject: Subject | None = None
        for rule, result in self._deployment_pairs:
            if not rule.selects_deployment(ctx):
                continue
            subject = subject or ctx.subject
            violations = rule.check_deployment(ctx, self._env)
            found += self._record(result, rule, subject, violations, place)
        return found

    def event(self, event: AuditEvent, seq: int = 0) -> list[Finding]:
        """Judge one single event (its rules' kinds); returns the findings it got."""
        found: list[Finding] = []
        for rule, result in self._pairs:
            if event.kind in self._by_kind[rule.spec.id] and rule.selects_event(event):
                violations = rule.check_event(event, self._env)
                found += self._record(result, rule, event_subject(event), violations, (1, seq))
        return found

    def _record(
        self,
        result: RuleResult,
        rule: Rule,
        subject: Subject,
        violations: Iterable[Violation],
        place: Place,
    ) -> list[Finding]:
        before = len(result.findings)
        _record(result, rule, subject, violations, self._keep_subjects)
        subject_places, finding_places = self._places[id(result)]
        if self._keep_subjects:
            subject_places.add(place, 1)
        finding_places.add(place, len(result.findings) - before)
        return result.findings[before:]

    def finish(self, events: int) -> Evaluation:
        """The verdict; ``events``: how many distinct events it rests on."""
        for result in self.results:
            subject_places, finding_places = self._places[id(result)]
            result.findings = _in_place(result.findings, finding_places)
            result.subjects = _in_place(result.subjects, subject_places)
        return Evaluation(results=self.results, deployments=self.deployments, events=events)


class _Places:
    """The places of a result's items, one per item, in 24 bytes each rather than a tuple
    (with its datetime and int) per judged subject: the time in microseconds and the seq in
    arrays, and the deployment's key (``None`` for a single event) shared with its subject."""

    __slots__ = ("keys", "seqs", "whens")

    def __init__(self) -> None:
        self.whens = array("q")
        self.keys: list[str | None] = []
        self.seqs = array("q")

    def add(self, place: Place, count: int) -> None:
        if count <= 0:
            return
        if place[0] == 0:  # a deployment: (0, when, key, first_seq)
            _, when, key, seq = place
            micros = epoch_micros(when)
        else:  # a single event: (1, seq)
            micros, key, seq = 0, None, place[1]
        self.whens.extend([micros] * count)
        self.keys.extend([key] * count)
        self.seqs.extend([seq] * count)

    def order(self) -> list[int]:
        """Item indexes in the verdict's order: deployments by (time, key, first seq), then
        single events by seq."""
        whens, keys, seqs = self.whens, self.keys, self.seqs

        def place_of(index: int) -> tuple[bool, int, str, int]:
            key = keys[index]
            return (key is None, whens[index], key or "", seqs[index])

        return sorted(range(len(keys)), key=place_of)


def _in_place(items: list[T], places: _Places) -> list[T]:
    return [items[index] for index in places.order()]


def evaluate(
    loaded: LoadedPolicy,
    contexts: Sequence[DeploymentContext],
    events: Iterable[AuditEvent],
    env: EvaluationEnv,
    *,
    keep_subjects: bool = False,
) -> Evaluation:
    judge = Judge(loaded, env, keep_subjects=keep_subjects)
    for ctx in contexts:
        judge.deployment(ctx)
    event_list = list(events)
    for event in event_list:
        judge.event(event)
    return judge.finish(_events_read(contexts, event_list))


def _events_read(contexts: Sequence[DeploymentContext], singles: list[AuditEvent]) -> int:
    ids = {event.id for event in singles}
    for ctx in contexts:
        ids.update(event.id for event in context_events(ctx))
    return len(ids)


def context_events(ctx: DeploymentContext) -> list[AuditEvent]:
    """Every event a deployment's verdict rests on: its statuses, run, approvals, reviews."""
    found = [ctx.deployment, *ctx.statuses, *ctx.approvals, *ctx.reviews]
    if ctx.run is not None:
        found.append(ctx.run)
    return found


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
        docs_url=sys.intern(spec.docs_url),  # one string per rule, not per finding
        rule_line=spec.line,
    )


def event_subject(event: AuditEvent) -> Subject:
    return Subject(
        kind=event.kind.value,
        key=event.id,
        repository=repository_of(event),
        environment=interned(event.scope.environment),
        ref=interned(event.ref),
        sha=event.sha,
        run_id=event.correlation.get("run_id"),
        url=event.links.get("html"),
    )
