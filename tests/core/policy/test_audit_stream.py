"""The streaming audit (``audit_ledger``: time-ordered reads, deployments judged and released
as their window passes) gives the verdict the in-memory audit gives over every event
(``audit_events``), on a generated history full of the cases that could tell them apart."""

from __future__ import annotations

import gc
import random
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.facts import without_superseded
from pipeledger.policy.audit import audit_events, audit_ledger
from pipeledger.policy.engine import Evaluation
from pipeledger.policy.loader import LoadedPolicy, load_policy
from pipeledger.policy.stream import Window
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink

START = datetime(2026, 2, 2, 8, tzinfo=UTC)
PEOPLE = ["ann", "bob", "cy", "dee", "eve", "renovate[bot]"]
REPOSITORIES = ["api", "web", "jobs"]
POLICY_EXTRA = """
  - id: admin-grants
    type: permission-change
    allowed: {users: [ann]}
  - id: drift
    type: protection-drift
    targets: [main]
  - id: custom
    type: expression
    match: {environments: ["prod*"]}
    condition: "length(approvals) > `0` && length(reviews) > `0`"
"""


class History:
    """Random deployments with everything joined to them, written in a shuffled chain order."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.events: list[AuditEvent] = []
        self.count = 0

    def event(self, kind: EventKind, at: datetime, who: str, **fields: Any) -> AuditEvent:
        self.count += 1
        native = f"{kind.value}/{self.count}"
        actor_type = ActorType.BOT if who.endswith("[bot]") else ActorType.USER
        event = AuditEvent(
            id=event_id("github", "github.com", "/t", native),
            kind=kind,
            occurred_at=at,
            platform="github",
            instance="github.com",
            actor=Actor(login=who, id=who, type=actor_type),
            source=Source(endpoint="/t", native_id=native),
            **fields,
        )
        self.events.append(event)
        return event

    def deployment(self, n: int) -> None:
        pick = self.random.choice
        # Whole minutes: many events share a time, so ties are broken by chain order.
        at = START + timedelta(hours=7 * n + self.random.randint(0, 3), minutes=pick([0, 0, 30]))
        # Deployments n and n + 1 have the same run and deployment ids in two repositories.
        repo = REPOSITORIES[n % 2] if self.random.random() < 0.5 else REPOSITORIES[2 - n % 2]
        env = pick(["production", "staging", "Production"])
        run = {"run_id": str(n // 2), "run_attempt": pick(["1", "2"])}
        sha = f"{n // 4:040x}"  # four deploys in a row ship one commit: its reviews join all
        ref = pick(["refs/heads/main", "main", "refs/heads/topic"])
        scope = Scope(owner="acme", repository=repo)
        env_scope = Scope(owner="acme", repository=repo, environment=env)
        trigger = pick(PEOPLE)
        for attempt in ("1", run["run_attempt"]):
            self.event(
                EventKind.PIPELINE_RUN,
                at + timedelta(minutes=self.random.choice([-5, 0, 40])),
                trigger,
                action="completed",
                scope=scope,
                ref=ref,
                sha=sha,
                correlation={**run, "run_attempt": attempt},
                attributes={"initial_actor": pick(PEOPLE)},
            )
        link = {**run, "deployment_id": str(n // 2)}
        states = ["created", "in_progress", "success"]
        if self.random.random() < 0.1:
            states = states[1:]  # the ledger never saw it created
        for step, state in enumerate(states):
            late = timedelta(days=self.random.choice([0, 0, 0, 3]))  # a late "success"
            self.event(
                EventKind.DEPLOYMENT,
                at + timedelta(minutes=step) + (late if step else timedelta()),
                "github-actions[bot]",
                action=state,
                scope=env_scope if step or self.random.random() < 0.8 else scope,
                ref=ref.rsplit("/", maxsplit=1)[-1],
                sha=sha,
                correlation=link,
            )
        for _ in range(self.random.randint(0, 2)):
            self.event(
                EventKind.DEPLOYMENT_APPROVAL,
                at + timedelta(minutes=self.random.choice([-30, 0, 10])),
                pick(PEOPLE),
                action=pick(["approved", "rejected"]),
                scope=pick([env_scope, scope, Scope("acme", repo, "staging")]),
                correlation={**run, "run_attempt": pick(["1", "2", None]) or "1"},
            )
        author = pick(PEOPLE)
        pull = str(n // 4 + self.random.choice([0, 0, 1]))  # a PR's reviews join by number
        for index in range(self.random.randint(0, 3)):
            self.event(
                EventKind.CHANGE_REVIEW,
                at - timedelta(days=self.random.choice([0, 1, 20])),
                pick(PEOPLE),
                action=pick(["approved", "commented", "changes_requested"]),
                scope=scope,
                sha=sha if index == 0 else f"{n + 10**6:040x}",  # an earlier commit of the PR
                target={"type": "pull_request", "number": int(pull), "author": author},
                correlation={"pull_request": pull},
            )

    def access_changes(self, n: int) -> None:
        at = START + timedelta(hours=7 * n + 2)
        scope = Scope(owner="acme", repository=self.random.choice(REPOSITORIES))
        who = self.random.choice(PEOPLE)
        grant = self.event(
            EventKind.PERMISSION_CHANGE,
            at,
            who,
            action="granted",
            scope=scope,
            target={"type": "user", "login": self.random.choice(PEOPLE)},
            change={"from": "write", "to": self.random.choice(["admin", "maintain"])},
        )
        if n % 3 == 0:  # a later fact that replaces it: the replaced one is never judged
            self.event(
                EventKind.PERMISSION_CHANGE,
                at + timedelta(hours=1),
                "ann",
                action="granted",
                scope=scope,
                target=grant.target,
                change={"from": "write", "to": "admin"},
                supersedes=(grant.id,),
            )
        self.event(
            EventKind.PROTECTION_CHANGE,
            at,
            who,
            action="updated",
            scope=scope,
            target={"type": "branch", "name": "main"},
            change={"from": {"enforce_admins": True}, "to": {"enforce_admins": n % 2 == 0}},
        )

    def chain_order(self) -> list[AuditEvent]:
        """Collected repository by repository, in batches: chain order is not time order."""
        batches = [self.events[i : i + 17] for i in range(0, len(self.events), 17)]
        self.random.shuffle(batches)
        return [event for batch in batches for event in batch]


def build(seed: int, deployments: int = 160) -> list[AuditEvent]:
    history = History(seed)
    for n in range(deployments):
        history.deployment(n)
        if n % 4 == 0:
            history.access_changes(n)
    return history.chain_order()


def policy(tmp_path: Path) -> LoadedPolicy:
    baseline = Path(__file__).resolve().parents[3] / "examples" / "policies" / "baseline.yml"
    path = tmp_path / "policy.yml"
    rules, rest = baseline.read_text(encoding="utf-8").split("\n# What no rule foresees", 1)
    path.write_text(f"{rules}{POLICY_EXTRA}\n# {rest}", encoding="utf-8")
    return load_policy(str(path))


def verdict(evaluation: Evaluation) -> dict[str, Any]:
    """Everything a report shows: findings in order, tallies, judged subjects, counts."""
    return {
        "findings": [
            (f.rule_id, f.subject, f.message, f.evidence, f.links, f.remedy)
            for f in evaluation.findings
        ],
        "results": [
            (r.to_dict(), [f.subject.key for f in r.findings], r.subjects)
            for r in evaluation.results
        ],
        "deployments": evaluation.deployments,
        "events": evaluation.events,
    }


PERIODS = (
    (None, None),
    (START + timedelta(days=10), START + timedelta(days=30)),
    (START + timedelta(days=20), None),
    (None, START + timedelta(days=15, hours=3)),
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streaming_gives_the_in_memory_verdict(seed: int, tmp_path: Path) -> None:
    loaded = policy(tmp_path)
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(build(seed), {})
    every = without_superseded(r.event for r in ledger.records(EventFilter()))
    try:
        for since, until in PERIODS:
            expected = audit_events(loaded, every, since, until, keep_subjects=True)
            streamed = audit_ledger(loaded, ledger, since, until, keep_subjects=True)
            assert expected.deployments > 5
            assert verdict(streamed) == verdict(expected), (since, until)
    finally:
        ledger.close()


def test_a_narrow_window_still_agrees_when_history_fits_in_it(tmp_path: Path) -> None:
    """Deployments are judged and released as the stream moves on (a window of days over
    months of history), and the verdict is still the one over everything."""
    loaded = policy(tmp_path)
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(build(4), {})
    every = without_superseded(r.event for r in ledger.records(EventFilter()))
    window = Window(look_back=timedelta(days=25), look_ahead=timedelta(days=4))
    streamed = audit_ledger(loaded, ledger, window=window, keep_subjects=True)
    assert verdict(streamed) == verdict(audit_events(loaded, every, keep_subjects=True))
    ledger.close()


def test_context_beyond_the_window_is_not_joined(tmp_path: Path) -> None:
    """What the window means: a review older than look_back no longer vouches for a deploy,
    and a status later than look_ahead does not become a deployment of its own."""
    loaded = policy(tmp_path)
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(build(5), {})
    tight = Window(look_back=timedelta(hours=1), look_ahead=timedelta(hours=1))
    wide = audit_ledger(loaded, ledger)
    narrow = audit_ledger(loaded, ledger, window=tight)
    assert narrow.deployments == wide.deployments  # late statuses made no new deployment
    assert narrow.events < wide.events  # fewer reviews, runs and statuses joined

    def findings(evaluation: Evaluation) -> int:  # needs approvals and reviews
        return next(len(r.findings) for r in evaluation.results if r.spec.id == "custom")

    assert findings(narrow) > findings(wide)
    ledger.close()


def test_evidence_of_findings_is_kept_for_recording(tmp_path: Path) -> None:
    loaded = policy(tmp_path)
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(build(6), {})
    evidence: dict[str, AuditEvent] = {}
    evaluation = audit_ledger(loaded, ledger, evidence=evidence)
    named = {ident for finding in evaluation.findings for ident in finding.evidence}
    stored = {r.event.id: r.event for r in ledger.records(EventFilter())}
    assert evidence == {ident: stored[ident] for ident in named if ident in stored}
    assert evidence
    ledger.close()


def test_the_verdict_holds_little_for_each_finding(tmp_path: Path) -> None:
    """What an audit keeps once its window has passed is the findings, so their size bounds
    the memory of a large audit (issue 13: a finding for each of 100,000s of deployments).
    Measured here: everything the verdict holds, per finding — the finding, its message and
    subject, its packed evidence ids and its place in the verdict's order: 577 bytes with
    evidence and links as tuples of strings, a tuple for each place, the rule's facts in
    every finding and a message of its own; 391 now (Python 3.11)."""
    loaded = policy(tmp_path)
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(build(7, deployments=600), {})
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        evaluation = audit_ledger(loaded, ledger)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        ledger.close()
    count = sum(len(result.findings) for result in evaluation.results)
    assert count > 1000
    assert held / count < 450, f"{held / count:.0f} bytes a finding"
