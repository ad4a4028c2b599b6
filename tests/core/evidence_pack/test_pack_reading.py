"""The pack keeps only what its period needs (evidence_pack/_reading.py), and is the same,
byte for byte, as the pack built from every event of the ledger held in memory (the way it
was built before issue 13; that path lives on here only).

The history spans January to July 2026 and puts, around every month's edges, what the pack
reaches outside its period for: reviews weeks before the deploy (one by the deployment's
id, one only by its pull request), approvals and runs before it, a status days later,
deployments that record no commit (their run does), re-run attempts, a hotfix just after a
month's end blaming the month's last deploy, rollbacks to commits deployed months before,
failures restored in the next month, facts superseded by events later in the chain, anomaly
alerts about a deploy raised in the next month (one acknowledged before it in the chain),
gate decisions, bypasses and access changes in the look-back."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeledger.anomalies.record import ack_event
from pipeledger.errors import UsageError
from pipeledger.events import AuditEvent, EventKind, Scope
from pipeledger.evidence_pack._history import require_history
from pipeledger.evidence_pack.builder import ledger_state
from pipeledger.evidence_pack.controls import load_controls
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.facts import SNAPSHOT_DIFF, merged
from pipeledger.ledger.chain import event_from_data
from pipeledger.ledger.facts import standing_facts
from pipeledger.period import parse_period
from pipeledger.policy.audit import collector_paused
from pipeledger.policy.loader import load_policy
from pipeledger.sinks.contract import Ledger, SinkSettings
from pipeledger_sqlite.sink import SqliteSink
from tests.conftest import ROOT
from tests.core.evidence_pack.in_memory import build_pack, pack_files
from tests.core.report.history import Pull, _review, alert, deploy, event, write_ledger

GENERATED = datetime(2026, 8, 2, 8, 0, tzinfo=UTC)
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")
REPOS = ("acme/api", "acme/web", "acme/ops")


def _when(moment: datetime) -> str:
    return moment.strftime("%m-%d %H:%M")


def _without_sha(events: list[AuditEvent]) -> list[AuditEvent]:
    """The deployment's statuses record no commit; its run does."""
    return [replace(e, sha=None) if e.kind is EventKind.DEPLOYMENT else e for e in events]


def _history() -> list[AuditEvent]:
    rng = random.Random(13)
    events: list[AuditEvent] = []
    late: list[AuditEvent] = []  # appended at the end of the chain
    start = datetime(2026, 1, 3, 9, 0, tzinfo=UTC)
    shas: dict[str, list[str]] = {repo: [] for repo in REPOS}
    for number in range(1, 181):
        repo = REPOS[number % len(REPOS)]
        created = start + timedelta(hours=number * 23 + rng.randrange(0, 600) / 60)
        environment = rng.choice(("production", "production", "staging", "prod-eu"))
        sha = f"{repo[-3:]}{number:04d}"
        if shas[repo] and rng.random() < 0.12:
            sha = rng.choice(shas[repo])  # a rollback to an earlier commit
        shas[repo].append(sha)
        later = created + timedelta(minutes=rng.choice((5, 30, 60 * 30, 60 * 24 * 3)))
        failed = rng.random() < 0.15
        ref = "refs/heads/hotfix/x" if rng.random() < 0.1 else "refs/heads/main"
        pull = None
        if rng.random() < 0.7:
            opened = created - timedelta(days=rng.choice((0, 1, 9, 25)), hours=3)
            reviewed = opened + timedelta(hours=2)
            pull = Pull(
                number,
                author=rng.choice(PEOPLE),
                reviewer=rng.choice(PEOPLE),
                created_at=_when(opened) if rng.random() < 0.8 else None,
                reviewed_at=_when(reviewed),
                title="Revert a change" if rng.random() < 0.08 else None,
            )
        story = deploy(
            repo,
            number,
            _when(created),
            sha,
            environment=environment,
            ref=ref,
            success=None if failed else _when(later),
            failure=_when(later) if failed else None,
            pull=pull,
            trigger=rng.choice(PEOPLE),
            approver=rng.choice((*PEOPLE, None)),
        )
        if number % 13 == 0 and not failed:
            # The success status comes first in the chain and names another environment;
            # the deployment's environment is the created status's, which ranks first.
            statuses = [e for e in story if e.kind is EventKind.DEPLOYMENT]
            story.remove(statuses[1])
            done = replace(statuses[1], scope=replace(statuses[1].scope, environment="qa"))
            story.insert(story.index(statuses[0]), done)
        if number % 9 == 0:
            story = _without_sha(story)
        if pull is not None and number % 5 == 0:
            # An earlier review of the same request, of a commit that was not merged.
            sibling = replace(
                _review(repo, replace(pull, reviewer="frank"), f"old{number}"),
                occurred_at=story[-1].occurred_at - timedelta(days=20),
            )
            events.append(replace(sibling, id=f"{sibling.id}-sib", source=replace(
                sibling.source, native_id=f"{sibling.source.native_id}/sib")))  # fmt: skip
        if number % 7 == 0:
            run = story[0]
            # A second attempt of the run, which the deployment (attempt 1) does not use.
            story.append(
                replace(
                    run,
                    id=f"{run.id}-2",
                    occurred_at=run.occurred_at + timedelta(hours=1),
                    correlation={**run.correlation, "run_attempt": "2"},
                    source=replace(run.source, native_id=f"{run.source.native_id}/2"),
                )
            )
        if number % 11 == 0:
            owner, name = repo.split("/")
            story.append(
                event(
                    EventKind.CHANGE_REVIEW,
                    f"{repo}/by-deployment/{number}",
                    created - timedelta(days=12),
                    "erin",
                    action="approved",
                    scope=Scope(owner=owner, repository=name),
                    correlation={"deployment_id": str(number)},
                )
            )
        if number % 6 == 0:
            owner, name = repo.split("/")
            story.append(
                event(
                    EventKind.GATE_DECISION,
                    f"{repo}/gate/{number}",
                    created - timedelta(minutes=1),
                    "pipeledger[bot]",
                    action="allowed" if number % 12 else "denied",
                    scope=Scope(owner=owner, repository=name, environment=environment),
                    correlation={"run_id": str(number)},
                )
            )
        if repo == "acme/api" and number % 8 == 0:
            raised = alert(
                f"alert-{number}",
                created + timedelta(days=rng.choice((0, 6, 30))),
                f"carol deployed api #{number}",
                deployment=str(number),
            )
            ack = ack_event(raised, "erin", "known", raised.occurred_at + timedelta(days=2))
            if number % 16 == 0:
                events.append(ack)  # the acknowledgement before the alert in the chain
                late.append(raised)
            else:
                late += [raised, ack]
        events += story
    events += _access_history(rng)
    for month in range(1, 8):
        # A hotfix just after each month's end blames the month's last production deploy.
        first = datetime(2026, month, 1, 0, 20, tzinfo=UTC) if month > 1 else None
        if first is not None:
            last = first - timedelta(hours=1, minutes=20)
            events += deploy(
                "acme/api",
                2000 + month,
                _when(last),
                f"last{month}",
                success=_when(last + timedelta(minutes=5)),
                pull=Pull(2000 + month, created_at=_when(last - timedelta(days=3)),
                          reviewed_at=_when(last - timedelta(days=2))),
            )  # fmt: skip
            events.append(
                event(
                    EventKind.PROTECTION_CHANGE,
                    f"bypass/edge/{month}",
                    first - timedelta(hours=2),
                    "carol",
                    action="bypassed",
                    scope=Scope(owner="acme", repository="api"),
                    target={"type": "branch", "name": "main"},
                )
            )
            # A commit first deployed (recording no commit itself) the month before: its
            # deploy this month is not its first, so it has no lead time.
            again = datetime(2026, month, 10, 9, 0, tzinfo=UTC)
            events += _without_sha(
                deploy("acme/web", 3000 + month, _when(again - timedelta(days=30)),
                       f"again{month}", success=_when(again - timedelta(days=30, minutes=-5)))
            )  # fmt: skip
            events += deploy("acme/web", 4000 + month, _when(again), f"again{month}",
                             success=_when(again + timedelta(minutes=5)),
                             pull=Pull(4000 + month, created_at=_when(again - timedelta(days=2)),
                                       reviewed_at=_when(again - timedelta(days=1))))  # fmt: skip
            events += deploy(
                "acme/api",
                1000 + month,
                _when(first),
                f"fix{month}",
                ref="refs/heads/hotfix/late",
                success=_when(first + timedelta(minutes=3)),
            )
    return events + late


def _access_history(rng: random.Random) -> list[AuditEvent]:
    """Grants, protection changes and bypasses around the months' edges, and facts that a
    later event supersedes (a snapshot difference merged with the audit log's entry)."""
    found: list[AuditEvent] = []
    superseding: list[AuditEvent] = []
    for index in range(60):
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=index * 3.5, hours=index)
        owner, name = REPOS[index % len(REPOS)].split("/")
        scope = Scope(owner=owner, repository=name)
        login = PEOPLE[index % len(PEOPLE)]
        grant = event(
            EventKind.PERMISSION_CHANGE,
            f"grant/{index}",
            moment,
            "root",
            action="granted",
            scope=scope,
            target={"type": "user", "login": login},
            change={"from": "write", "to": "admin" if index % 3 == 0 else "maintain"},
        )
        found.append(grant)
        if index % 4 == 0:
            diff = event(
                EventKind.PERMISSION_CHANGE,
                f"diff/{index}",
                moment + timedelta(hours=6),
                "unknown",
                action="granted",
                scope=scope,
                target={"type": "user", "login": login},
                change={"from": "write", "to": "admin"},
                attributes={"detected_by": SNAPSHOT_DIFF},
            )
            found.append(diff)
            superseding.append(merged(grant, diff, keep_id=False))
        kind_of_change = "bypassed" if index % 5 == 0 else "updated"
        found.append(
            event(
                EventKind.PROTECTION_CHANGE,
                f"protect/{index}",
                moment + timedelta(hours=rng.choice((1, 20, 40))),
                "root",
                action=kind_of_change,
                scope=scope,
                target={"type": "branch", "name": "main"},
                change=None if kind_of_change == "bypassed" else {"from": 2, "to": 1},
            )
        )
    return found + superseding


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("reading")
    return write_ledger(folder / "ledger.db", _history())


def _whole_ledger_pack(ledger: Ledger, options: PackOptions) -> dict[str, bytes]:
    """The pack as built before issue 13: every event of the ledger in memory."""
    stored: list[AuditEvent] = []
    with collector_paused():
        state = ledger_state(ledger, lambda seq, body: stored.append(event_from_data(seq, body)))
        events = standing_facts(stored)
    require_history(events, options, ledger.display_url)
    return pack_files(events, state, options, load_controls(None), ledger, None)


def _options(period: str, **fields: Any) -> PackOptions:
    policy = load_policy(str(ROOT / "examples" / "policies" / "baseline.yml"))
    return PackOptions(
        period=parse_period(period),
        generated_at=GENERATED,
        seed=5,
        sample_size=fields.pop("sample_size", 6),
        policy=policy,
        **fields,
    )


CASES = [
    *(f"2026-{month:02d}" for month in range(1, 8)),
    "2026-Q1",
    "2026-Q2",
    "2026",
    "2026-02-10..2026-03-20",
]


@pytest.mark.parametrize("period", CASES)
def test_every_file_is_the_whole_ledger_pack_s(ledger_url: str, period: str) -> None:
    ledger = SqliteSink.open(ledger_url, SinkSettings(environ={}))
    try:
        options = _options(period)
        expected = _whole_ledger_pack(ledger, options)
        built = build_pack(ledger, options, load_controls(None), None)
    finally:
        ledger.close()
    assert sorted(built) == sorted(expected)
    different = [name for name in expected if built[name] != expected[name]]
    assert different == []
    assert len([name for name in built if name.startswith("deployments/")]) > 0


@pytest.mark.parametrize(
    ("period", "fields"),
    [
        ("2026-03", {"environment": "production"}),
        ("2026-04", {"environment": "staging", "sample_size": 40}),
        ("2026-05", {"lookback": timedelta(days=45), "sample_size": 40}),
    ],
)
def test_options_that_move_the_reach_give_the_same_pack(
    ledger_url: str, period: str, fields: dict[str, Any]
) -> None:
    ledger = SqliteSink.open(ledger_url, SinkSettings(environ={}))
    try:
        options = _options(period, **fields)
        expected = _whole_ledger_pack(ledger, options)
        built = build_pack(ledger, options, load_controls(None), None)
    finally:
        ledger.close()
    assert [name for name in expected if built.get(name) != expected[name]] == []
    assert sorted(built) == sorted(expected)


@pytest.mark.parametrize(
    ("period", "fields"),
    [("2025-03", {}), ("2026-03", {"environment": "uat"})],
)
def test_the_same_refusal_as_the_whole_ledger(
    ledger_url: str, period: str, fields: dict[str, Any]
) -> None:
    ledger = SqliteSink.open(ledger_url, SinkSettings(environ={}))
    try:
        options = _options(period, **fields)
        with pytest.raises(UsageError) as whole:
            _whole_ledger_pack(ledger, options)
        with pytest.raises(UsageError) as kept:
            build_pack(ledger, options, load_controls(None), None)
    finally:
        ledger.close()
    assert str(kept.value) == str(whole.value)


def test_the_history_reaches_across_the_months() -> None:
    """The history holds what the module's docstring promises (guards the generator)."""
    events = _history()
    kinds = {e.kind for e in events}
    assert EventKind.GATE_DECISION in kinds and EventKind.ANOMALY in kinds
    assert any(e.supersedes for e in events)
    assert any(e.kind is EventKind.DEPLOYMENT and e.sha is None for e in events)
    reviews = [e for e in events if e.kind is EventKind.CHANGE_REVIEW]
    assert any(e.correlation.get("deployment_id") for e in reviews)
    months = {e.occurred_at.month for e in events}
    assert months >= set(range(1, 8))
