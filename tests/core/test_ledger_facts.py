"""``ledger_facts`` over a period, ``facts_for_period`` and ``scope_extents``: what report and
metrics read, bounded by the period instead of the ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from pipeledger.events import EventKind
from pipeledger.ledger.facts import facts_for_period, ledger_facts, scope_extents
from pipeledger.policy.stream import Window
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import BASE_TIME, make_event


def test_a_period_reads_only_its_facts_and_still_drops_superseded_ones(tmp_path: Path) -> None:
    events = [make_event(n, occurred_at=BASE_TIME + timedelta(days=n)) for n in range(1, 31)]
    # A fact recorded on day 40 replaces the day-10 change: outside the period, still honoured.
    events[9] = replace(events[9], kind=EventKind.PERMISSION_CHANGE)
    fact = replace(
        make_event(99, occurred_at=BASE_TIME + timedelta(days=40)),
        kind=EventKind.PERMISSION_CHANGE,
        supersedes=(events[9].id,),
    )
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append([*reversed(events), fact], {})
    start, end = BASE_TIME + timedelta(days=5), BASE_TIME + timedelta(days=15)
    got = ledger_facts(ledger, start, end)
    every = ledger_facts(ledger)
    assert got == [e for e in every if start <= e.occurred_at < end]
    assert events[9] not in got and len(got) == 9
    assert [r.event for r in ledger.records(EventFilter(since=start, until=end))] != got
    window = Window(look_back=timedelta(days=2), look_ahead=timedelta(days=1))
    wider = facts_for_period(ledger, start, end, window)
    assert {e.occurred_at for e in wider} == {
        e.occurred_at
        for e in every
        if start - timedelta(days=3) <= e.occurred_at < end + timedelta(days=1)
    }
    ledger.close()


def test_scope_extents_are_the_first_and_last_event_of_each_scope(tmp_path: Path) -> None:
    events = [make_event(n, occurred_at=BASE_TIME + timedelta(hours=n)) for n in range(1, 13)]
    events[3] = replace(events[3], scope=replace(events[3].scope, repository="api"))
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(list(reversed(events)), {})
    extents = scope_extents(ledger)
    web = extents[("testforge", "forge.example", "acme/web")]
    api = extents[("testforge", "forge.example", "acme/api")]
    assert (web.first, web.last) == (events[0].occurred_at, events[-1].occurred_at)
    assert api.first == api.last == events[3].occurred_at
    ledger.close()
