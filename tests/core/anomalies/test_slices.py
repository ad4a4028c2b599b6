"""A long period is judged slice by slice, each slice reading only its own look-back: what
the detectors hold follows the look-back window, not the ledger, and slicing neither loses
nor repeats an alert."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeledger.anomalies._facts import Approval, Deploy
from pipeledger.anomalies.engine import (
    Detection,
    Selection,
    detect,
    detect_in_ledger,
    read_ahead,
)
from pipeledger.anomalies.history import FACT_KINDS, read_history
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.events import AuditEvent
from pipeledger_sqlite.sink import SqliteSink
from tests.core.anomalies.synthetic import START, TEAMS, Builder, History

DAYS = 240
LOOKBACK = 30


@pytest.fixture(scope="module")
def long_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[AuditEvent]]:
    """Eight months of regular deploys by the synthetic teams, nobody away."""
    builder = Builder(seed=3)
    builder.regular_days(TEAMS, DAYS, {"judy": range(DAYS)})
    events = sorted(builder.history.events, key=lambda e: e.occurred_at)
    path = tmp_path_factory.mktemp("slices") / "long.db"
    ledger = SqliteSink(path)
    ledger.append(events, {})
    ledger.close()
    return path, events


def run(path: Path, settings: AnomalySettings, selection: Selection) -> Detection:
    ledger = SqliteSink(path)
    try:
        return detect_in_ledger(ledger, settings, selection)
    finally:
        ledger.close()


def most_in_any_window(events: list[AuditEvent], width: timedelta) -> int:
    """The most fact events within any ``width`` of time: what one slice may read."""
    times = [e.occurred_at for e in events if e.kind in FACT_KINDS]
    most, first = 0, 0
    for last, moment in enumerate(times):
        while times[first] < moment - width:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_the_whole_ledger_is_judged_in_slices_of_one_look_back(
    long_ledger: tuple[Path, list[AuditEvent]],
) -> None:
    path, events = long_ledger
    settings = AnomalySettings(lookback_days=LOOKBACK)
    detection = run(path, settings, Selection())
    facts = sum(e.kind in FACT_KINDS for e in events)
    # Slices are cut back from now, so the first one may hold only the ledger's first days.
    assert DAYS // LOOKBACK <= detection.slices <= DAYS // LOOKBACK + 1
    # Every fact is read for its own slice and again as the next slice's look-back.
    assert facts < detection.events_read <= 2 * facts
    window = 2 * timedelta(days=LOOKBACK) + read_ahead(settings)
    assert detection.largest_slice <= most_in_any_window(events, window)
    assert detection.largest_slice < facts / 3
    assert detection.alerts == []


def test_no_slice_outlives_its_judging(long_ledger: tuple[Path, list[AuditEvent]]) -> None:
    """With the cycle collector off (as the run keeps it), every slice's facts are freed by
    reference counting alone: none is left alive, or waiting for a collection, afterwards."""
    path, _ = long_ledger
    gc.collect()
    gc.disable()
    try:
        detection = run(path, AnomalySettings(lookback_days=LOOKBACK), Selection())
        left = [o for o in gc.get_objects() if isinstance(o, Deploy | Approval)]
    finally:
        gc.enable()
    assert detection.slices > 1
    assert left == []


def test_a_history_dated_after_today_is_still_judged_in_slices(
    long_ledger: tuple[Path, list[AuditEvent]], tmp_path: Path
) -> None:
    """Deploys dated later than now (a clock set wrong, a generated history) do not all fall
    into the newest, open-ended slice: the walk starts past the last of them."""
    _, events = long_ledger
    ahead = timedelta(days=3 * 365)
    shifted = [replace(event, occurred_at=event.occurred_at + ahead) for event in events]
    ledger = SqliteSink(tmp_path / "future.db")
    ledger.append(shifted, {})
    ledger.close()
    settings = AnomalySettings(lookback_days=LOOKBACK)
    detection = run(tmp_path / "future.db", settings, Selection())
    facts = sum(e.kind in FACT_KINDS for e in events)
    assert detection.slices >= DAYS // LOOKBACK
    # Each fact is read for its slice and as the next one's look-back, plus each slice's
    # read-ahead past its end.
    extra = detection.slices * most_in_any_window(events, read_ahead(settings))
    assert facts < detection.events_read <= 2 * facts + extra
    assert detection.largest_slice < facts / 3


def test_a_short_period_of_a_long_ledger_reads_its_look_back_only(
    long_ledger: tuple[Path, list[AuditEvent]],
) -> None:
    path, events = long_ledger
    since = START + timedelta(days=DAYS - 10)
    detection = run(path, AnomalySettings(lookback_days=LOOKBACK), Selection(since=since))
    start = since - timedelta(days=LOOKBACK)
    assert detection.slices == 1
    assert detection.events_read == sum(
        e.kind in FACT_KINDS and e.occurred_at >= start for e in events
    )


def test_slices_find_what_one_pass_finds(ledger_file: Path, history: History) -> None:
    """The synthetic history judged in 25-day slices raises the alerts a single pass over the
    whole history raises with the same 25-day look-back — except a return from an absence
    longer than the look-back, which only the whole history still remembers: sliced, it is a
    first deploy anywhere (high), as the documentation says."""
    settings = AnomalySettings(lookback_days=25)
    selection = Selection(since=history.judged_from)
    sliced = run(ledger_file, settings, selection)
    ledger = SqliteSink(ledger_file)
    try:
        whole = detect(read_history(ledger, None, None), settings, selection)
    finally:
        ledger.close()
    assert sliced.slices > 1
    assert sorted(a.id for a in sliced.alerts) == sorted(
        a.id for a in whole if a.detector != "dormant-account"
    )
    [judy] = [a for a in sliced.alerts if a.actors[0] == "judy"]
    assert (judy.detector, judy.severity.value) == ("first-deployer", "high")


def test_a_gap_longer_than_the_look_back_does_not_end_the_walk(
    ledger_file: Path, history: History, tmp_path: Path
) -> None:
    """Judging the whole ledger walks back from now; months with no event between the
    synthetic history and a later deploy do not stop it before the history."""
    path = tmp_path / "gap.db"
    ledger = SqliteSink(path)
    later = Builder(seed=5)
    later.deploy(TEAMS[0], datetime.now(START.tzinfo) - timedelta(days=2), "alice")
    ledger.append([*history.events, *later.history.events], {})
    ledger.close()
    found = run(path, AnomalySettings(), Selection())
    for item in history.injected:
        assert [a.detector for a in found.alerts if a.subject.deployment_id in item.subjects] == [
            item.detector
        ], item.name
    assert len(found.alerts) == len(history.injected)
