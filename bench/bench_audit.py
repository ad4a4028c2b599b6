"""``audit`` throughput: 100,000 events in a SQLite ledger, judged by the built-in rules.

Prints events per second on one core for the whole audit (read the ledger, parse, assemble
deployments, evaluate) and for evaluation alone. Run: ``python -m bench.run audit``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.figures import at_least, figure
from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.policy.audit import audit_events, audit_ledger, collector_paused
from pipeledger.policy.loader import LoadedPolicy, load_policy
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink

TOTAL = 100_000
AUDIT_TARGET = 80_000  # events/s on one core (issue 13; an earlier issue asked for 50,000)
START = datetime(2026, 1, 5, tzinfo=UTC)
PEOPLE = [f"dev{n}" for n in range(40)]
BUILTIN_RULES = """
  - id: admin-grants
    type: permission-change
    allowed: {users: [root-admin]}
  - id: drift
    type: protection-drift
    targets: [main, "release/*"]
"""
EXPRESSION_RULE = """
  - id: custom
    type: expression
    match: {environments: ["prod*"]}
    condition: "deployer.type == 'user' && length(approvals) > `0`"
"""


def _event(kind: EventKind, native: str, at: datetime, who: str, **fields: object) -> AuditEvent:
    endpoint = f"/bench/{kind.value}"
    kind_of_actor = ActorType.BOT if who.endswith("[bot]") else ActorType.USER
    return AuditEvent(
        id=event_id("github", "github.com", endpoint, native),
        kind=kind,
        occurred_at=at,
        platform="github",
        instance="github.com",
        actor=Actor(login=who, id=str(len(who)), type=kind_of_actor),
        source=Source(endpoint=endpoint, native_id=native),
        **fields,  # type: ignore[arg-type]
    )


def deployment_story(n: int) -> list[AuditEvent]:
    """One production or staging deploy: its run, created + 2 statuses, approval, 2 reviews."""
    at = START + timedelta(minutes=37 * n)
    repo = f"service-{n % 50}"
    scope = Scope(owner="acme", repository=repo)
    env = "production" if n % 3 else "staging"
    env_scope = Scope(owner="acme", repository=repo, environment=env)
    sha = f"{n:040x}"
    trigger = "renovate[bot]" if n % 97 == 0 else PEOPLE[n % 40]
    ref = "refs/heads/main" if n % 11 else f"refs/heads/feature-{n}"
    run_link = {"run_id": str(n), "run_attempt": "1"}
    deploy_link = {**run_link, "deployment_id": str(n)}
    events = [
        _event(
            EventKind.PIPELINE_RUN,
            f"r{n}",
            at,
            trigger,
            action="completed",
            scope=scope,
            ref=ref,
            sha=sha,
            correlation=run_link,
            attributes={"initial_actor": trigger},
            links={"html": f"https://github.com/acme/{repo}/actions/runs/{n}"},
        ),
    ]
    for step, state in enumerate(("created", "in_progress", "success")):
        events.append(
            _event(
                EventKind.DEPLOYMENT,
                f"d{n}/{state}",
                at + timedelta(minutes=2 + step),
                "github-actions[bot]",
                action=state,
                scope=env_scope,
                ref=ref.rsplit("/", maxsplit=1)[-1],
                sha=sha,
                correlation=deploy_link,
            )
        )
    approver = trigger if n % 13 == 0 else PEOPLE[(n + 1) % 40]
    events.append(
        _event(
            EventKind.DEPLOYMENT_APPROVAL,
            f"a{n}",
            at + timedelta(minutes=1),
            approver,
            action="approved",
            scope=env_scope,
            correlation=run_link,
        )
    )
    author = PEOPLE[(n + 5) % 40]
    target = {
        "type": "pull_request",
        "number": n,
        "author": author,
        "merged_at": "2026-01-01T00:00:00Z",
        "merge_commit_sha": sha,
    }
    for index, reviewer in enumerate((PEOPLE[(n + 7) % 40], author)):
        events.append(
            _event(
                EventKind.CHANGE_REVIEW,
                f"p{n}/{index}",
                at - timedelta(hours=1),
                reviewer,
                action="approved" if index == 0 else "commented",
                scope=scope,
                sha=sha,
                target=target,
                correlation={"pull_request": str(n)},
            )
        )
    return events


def change_story(n: int) -> list[AuditEvent]:
    at = START + timedelta(minutes=37 * n + 5)
    scope = Scope(owner="acme", repository=f"service-{n % 50}")
    return [
        _event(
            EventKind.PERMISSION_CHANGE,
            f"g{n}",
            at,
            PEOPLE[n % 40],
            action="granted",
            scope=scope,
            target={"type": "user", "login": PEOPLE[(n + 3) % 40]},
            change={"from": "write", "to": "admin" if n % 5 == 0 else "maintain"},
        ),
        _event(
            EventKind.PROTECTION_CHANGE,
            f"b{n}",
            at,
            PEOPLE[n % 40],
            action="updated",
            scope=scope,
            target={"type": "branch", "name": "main"},
            change={
                "from": {"required_approving_review_count": 2, "enforce_admins": True},
                "to": {"required_approving_review_count": 1 + n % 2, "enforce_admins": True},
            },
        ),
    ]


def stories() -> Iterator[list[AuditEvent]]:
    n = 0
    while True:
        yield deployment_story(n)
        if n % 4 == 0:
            yield change_story(n)
        n += 1


def fill(ledger: SqliteSink, total: int = TOTAL) -> int:
    batch: list[AuditEvent] = []
    written = 0
    for story in stories():
        take = story[: total - written - len(batch)]
        batch.extend(take)
        if len(batch) >= 5_000 or written + len(batch) >= total:
            ledger.append(batch, {})
            written += len(batch)
            batch = []
        if written >= total:
            return written
    return written


def policy(scratch: Path, extra: str) -> LoadedPolicy:
    baseline = Path(__file__).resolve().parents[1] / "examples" / "policies" / "baseline.yml"
    path = scratch / "policy.yml"
    # The extra rules go under ``rules:``, before the baseline's ``anomalies:`` section.
    rules, rest = baseline.read_text(encoding="utf-8").split("\n# What no rule foresees", 1)
    path.write_text(f"{rules}{extra}\n# What no rule foresees{rest}", encoding="utf-8")
    return load_policy(str(path))


def measure(loaded: LoadedPolicy, ledger: SqliteSink) -> dict[str, float]:
    """Best of three: the machine may be shared, and the fastest run is the one least
    disturbed by others."""
    runs = [measure_once(loaded, ledger) for _ in range(3)]
    best = min(runs, key=lambda figures: figures["total_cpu"])
    best["eval_cpu"] = min(figures["eval_cpu"] for figures in runs)
    return best


def measure_once(loaded: LoadedPolicy, ledger: SqliteSink) -> dict[str, float]:
    """The real audit path, once whole and once from events already in memory."""
    wall, cpu = time.perf_counter(), time.process_time()
    evaluation = audit_ledger(loaded, ledger)
    total_cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    events = [record.event for record in ledger.records(EventFilter())]
    cpu = time.process_time()
    with collector_paused():
        audit_events(loaded, events)
    eval_cpu = time.process_time() - cpu
    return {
        "events": len(events),
        "deployments": evaluation.deployments,
        "findings": len(evaluation.findings),
        "wall": wall,
        "total_cpu": total_cpu,
        "eval_cpu": eval_cpu,
    }


def report(name: str, figures: dict[str, float]) -> None:
    total_cpu = figures["total_cpu"]
    print(
        f"{name}: {figures['events']:,.0f} events, {figures['deployments']:,.0f} deployments,"
        f" {figures['findings']:,.0f} findings\n"
        f"  whole audit (read + parse + assemble + evaluate): {total_cpu:.2f} s CPU,"
        f" {figures['events'] / total_cpu:,.0f} events/s/core (wall {figures['wall']:.2f} s)\n"
        f"  assemble + evaluate only: {figures['eval_cpu']:.2f} s CPU,"
        f" {figures['events'] / figures['eval_cpu']:,.0f} events/s/core"
    )
    figure(
        f"audit, {figures['events']:,.0f} events, {name}",
        figures["events"] / total_cpu,
        "events/s/core",
        at_least(AUDIT_TARGET),
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pipeledger-bench-") as scratch:
        ledger = SqliteSink(Path(scratch) / "ledger.db")
        started = time.perf_counter()
        written = fill(ledger)
        print(f"ledger: {written:,} events written in {time.perf_counter() - started:.1f} s")
        report(
            "built-in rules (baseline + permission-change + protection-drift)",
            measure(policy(Path(scratch), BUILTIN_RULES), ledger),
        )
        report(
            "same plus one expression rule",
            measure(policy(Path(scratch), BUILTIN_RULES + EXPRESSION_RULE), ledger),
        )
        ledger.close()


if __name__ == "__main__":
    main()
