"""Anomaly detectors: throughput over a million-event ledger, memory bounded by the look-back,
false alerts on a regular history, and recall/precision on injected anomalies.

``python -m bench.run anomalies``. Targets (issue 16): ≥ 50,000 events/s on one core over
1,000,000 events; every injected anomaly found; at most 2 % of normal production deploys
flagged.
"""

from __future__ import annotations

import random
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from tests.anomalies.synthetic import START, Builder, Team, build

from pipeledger.anomalies.engine import Selection, detect_in_ledger
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger_sqlite.sink import SqliteSink

EVENTS_TARGET = 1_000_000
DAYS = 120
JUDGED_FROM_DAY = 90
SEEDS = (1, 2, 3, 4, 5)


def regular_teams(count: int, rng: random.Random) -> list[Team]:
    """``count`` repositories, each with a production environment (approved, three deploys a
    weekday) and a staging one (unapproved, three a weekday), fixed people and hour bands."""
    teams = []
    for n in range(count):
        people = tuple(f"dev{n}-{k}" for k in range(rng.randint(2, 5)))
        approvers = tuple(f"lead{n}-{k}" for k in range(2))
        start = rng.randint(6, 14)
        teams.append(Team("corp", f"svc{n}", "production", people, approvers, start, start + 3, 3))
        teams.append(Team("corp", f"svc{n}", "staging", people, (), start, start + 6, 3))
    return teams


def write_regular_ledger(path: Path) -> tuple[int, set[str]]:
    """A regular history of about a million events, written day by day so the generator
    never holds more than a day of it. Returns (events, normal production deployments
    judged)."""
    builder = Builder(seed=11)
    teams = regular_teams(EVENTS_TARGET // 1806, random.Random(11))  # noqa: S311 - data
    ledger = SqliteSink(path)
    written = 0
    judged: set[str] = set()
    for day in range(DAYS):
        date = START + timedelta(days=day)
        if date.weekday() >= 5:
            continue
        for team in teams:
            for _ in range(team.per_day):
                when = date + timedelta(
                    hours=builder.random.randint(team.first_hour, team.last_hour),
                    minutes=builder.random.randint(0, 59),
                )
                ident = builder.deploy(team, when, builder.random.choice(team.deployers))
                if team.environment == "production" and day >= JUDGED_FROM_DAY:
                    judged.add(ident)
        events = sorted(builder.history.events, key=lambda e: e.occurred_at)
        ledger.append(events, {})
        written += len(events)
        builder.history.events.clear()
    ledger.close()
    return written, judged


def throughput(path: Path, events: int, judged: set[str]) -> None:
    settings = AnomalySettings()
    selection = Selection(since=START + timedelta(days=JUDGED_FROM_DAY))
    best = float("inf")
    detection = None
    for _ in range(2):
        ledger = SqliteSink(path)
        started = time.process_time()
        detection = detect_in_ledger(ledger, settings, selection)
        best = min(best, time.process_time() - started)
        ledger.close()
    assert detection is not None and detection.history is not None
    read = detection.history.events_read
    flagged = {a.subject.deployment_id for a in detection.alerts} & judged
    print(f"ledger: {events:,} events; detectors read {read:,} (look-back + judged period)")
    print(
        f"whole run (read ledger, parse, detect): {best:.2f} s CPU,"
        f" {read / best:,.0f} events/s/core"
    )
    print(
        f"false alerts on the regular history: {len(detection.alerts)} alerts;"
        f" {len(flagged)} of {len(judged):,} normal production deploys flagged"
        f" ({100 * len(flagged) / max(1, len(judged)):.2f} %; target ≤ 2 %)"
    )
    for lookback in (90, 30):
        tracemalloc.start()
        ledger = SqliteSink(path)
        found = detect_in_ledger(ledger, AnomalySettings(lookback_days=lookback), selection)
        ledger.close()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert found.history is not None
        print(
            f"look-back {lookback} days: read {found.history.events_read:,} events,"
            f" peak Python memory {peak / 2**20:,.0f} MiB"
        )


def quality() -> None:
    found_total = injected_total = alerts_total = true_alerts = 0
    flagged_normal = normal_total = 0
    by_detector: dict[str, list[int]] = {}
    for seed in SEEDS:
        history = build(seed)
        with tempfile.TemporaryDirectory() as tmp:
            ledger = SqliteSink(Path(tmp) / "q.db")
            ledger.append(history.events, {})
            detection = detect_in_ledger(
                ledger, AnomalySettings(), Selection(since=history.judged_from)
            )
            ledger.close()
        injected_ids = frozenset().union(*(i.subjects for i in history.injected))
        for item in history.injected:
            hit = any(
                a.detector == item.detector and a.subject.deployment_id in item.subjects
                for a in detection.alerts
            )
            by_detector.setdefault(item.detector, [0, 0])[0] += hit
            by_detector[item.detector][1] += 1
            found_total += hit
            injected_total += 1
        alerts_total += len(detection.alerts)
        true_alerts += sum(a.subject.deployment_id in injected_ids for a in detection.alerts)
        judged = {
            e.correlation["deployment_id"]
            for e in history.events
            if e.action == "created"
            and e.occurred_at >= history.judged_from
            and e.correlation.get("deployment_id") in history.normal_production
        }
        flagged = {a.subject.deployment_id for a in detection.alerts} & judged
        flagged_normal += len(flagged)
        normal_total += len(judged)
    print(f"synthetic histories: seeds {SEEDS}, 10 weeks each, judged after 4 weeks")
    for name, (hit, total) in sorted(by_detector.items()):
        print(f"  {name}: {hit}/{total} found")
    print(f"recall {found_total}/{injected_total} = {found_total / injected_total:.0%}")
    print(f"precision {true_alerts}/{alerts_total} = {true_alerts / max(1, alerts_total):.0%}")
    print(
        f"normal production deploys flagged: {flagged_normal}/{normal_total}"
        f" = {100 * flagged_normal / max(1, normal_total):.2f} % (target ≤ 2 %)"
    )


def main() -> None:
    quality()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "regular.db"
        started = time.monotonic()
        events, judged = write_regular_ledger(path)
        print(f"wrote {events:,} events in {time.monotonic() - started:.0f} s")
        throughput(path, events, judged)


if __name__ == "__main__":
    main()
