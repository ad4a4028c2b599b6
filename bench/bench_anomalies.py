"""Anomaly detectors: throughput over a million-event ledger, memory bounded by the look-back,
false alerts on a regular history, and recall/precision on injected anomalies.

``python -m bench.run anomalies``. Targets (issue 16): ≥ 50,000 events/s on one core over
1,000,000 events; every injected anomaly found; at most 2 % of normal production deploys
flagged.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.core.anomalies.synthetic import START, Builder, Team, build

from pipeledger import json_codec
from pipeledger.anomalies.engine import Selection, detect_in_ledger
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger_sqlite.sink import SqliteSink

EVENTS_TARGET = 1_000_000
DAYS = 120
JUDGED_FROM_DAY = 90
SEEDS = (1, 2, 3, 4, 5)
# The memory comparison's ledgers: 120 days of these is about 250,000 events, 480 days 1M.
LONG_REPOSITORIES = 138


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


def write_regular_ledger(
    path: Path, *, repositories: int = EVENTS_TARGET // 1806, days: int = DAYS, first_day: int = 0
) -> tuple[int, set[str]]:
    """A regular history (about a million events with the defaults), written day by day so
    the generator never holds more than a day of it; ``first_day`` shifts it back in time
    from the synthetic start. Returns (events, normal production deployments judged: those
    in the last ``days - JUDGED_FROM_DAY`` days)."""
    builder = Builder(seed=11)
    teams = regular_teams(repositories, random.Random(11))  # noqa: S311 - data
    ledger = SqliteSink(path)
    written = 0
    judged: set[str] = set()
    for day in range(first_day, first_day + days):
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
                if team.environment == "production" and day >= first_day + JUDGED_FROM_DAY:
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
    assert detection is not None
    read = detection.events_read
    flagged = {a.subject.deployment_id for a in detection.alerts} & judged
    print(f"ledger: {events:,} events; detectors read {read:,} (look-back + judged period)")
    print(f"JSON parser: {json_codec.parser_name()}; load average {os.getloadavg()[0]:.1f}")
    print(
        f"whole run (read ledger, parse, detect): {best:.2f} s CPU,"
        f" {read / best:,.0f} events/s/core"
    )
    print(
        f"false alerts on the regular history: {len(detection.alerts)} alerts;"
        f" {len(flagged)} of {len(judged):,} normal production deploys flagged"
        f" ({100 * len(flagged) / max(1, len(judged)):.2f} %; target ≤ 2 %)"
    )
    print(measured_apart(path, selection.since, 90))


def memory_against_ledger_length(directory: Path) -> None:
    """The same repositories over 120 and over 480 days (four times longer, ending at the
    same date): judging the last 30 days, and judging the whole ledger, each in a fresh
    process whose peak resident memory is read from the kernel (``ru_maxrss``)."""
    end = JUDGED_FROM_DAY + 30  # both end where the throughput ledger ends
    for days in (120, 480):
        path = directory / f"long-{days}.db"
        started = time.monotonic()
        events, _ = write_regular_ledger(
            path, repositories=LONG_REPOSITORIES, days=days, first_day=DAYS - days
        )
        print(
            f"{days}-day ledger: {events:,} events, written in {time.monotonic() - started:.0f} s"
        )
        print("  last 30 days: " + measured_apart(path, START + timedelta(days=end - 30), 90))
        print("  whole ledger: " + measured_apart(path, None, 90))


def measured_apart(path: Path, since: datetime | None, lookback: int) -> str:
    """One ``detect_in_ledger`` in a fresh interpreter: its figures and peak RSS."""
    argv = [sys.executable, "-m", "bench.bench_anomalies", "measure", str(path)]
    argv += [since.isoformat() if since else "-", str(lookback)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def peak_resident_mib() -> float:
    """This process's peak resident memory: ``VmHWM`` (Linux), which starts afresh at exec —
    unlike ``ru_maxrss``, which keeps the forking parent's size."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: str, since: str, lookback: int) -> None:
    ledger = SqliteSink(Path(path))
    selection = Selection(since=datetime.fromisoformat(since) if since != "-" else None)
    started = time.process_time()
    found = detect_in_ledger(ledger, AnomalySettings(lookback_days=lookback), selection)
    cpu = time.process_time() - started
    ledger.close()
    peak = peak_resident_mib()
    print(
        f"look-back {lookback} days: {found.slices} slice(s), read {found.events_read:,} events"
        f" (at most {found.largest_slice:,} at once), {len(found.alerts)} alerts,"
        f" {cpu:.1f} s CPU, peak RSS {peak:,.0f} MiB"
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
        path.unlink()
        memory_against_ledger_length(Path(tmp))


if __name__ == "__main__":
    if sys.argv[1:2] == ["measure"]:
        measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ["memory"]:  # only the comparison of ledger lengths
        with tempfile.TemporaryDirectory() as tmp:
            memory_against_ledger_length(Path(tmp))
    else:
        main()
