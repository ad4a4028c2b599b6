"""``Ledger.event_bodies``: the stored JSON of the records a filter selects, in chain order,
the same from SQLite and PostgreSQL; anomaly detection over either gives the same alerts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeledger.anomalies.engine import Selection, detect_in_ledger
from pipeledger.anomalies.settings import AnomalySettings
from pipeledger.events import EventKind
from pipeledger.sinks.contract import EventFilter, Ledger, SinkSettings
from pipeledger_postgres.sink import PostgresSink
from pipeledger_sqlite.sink import SqliteSink
from tests.core.anomalies.synthetic import START, build

SETTINGS = SinkSettings(environ={}, timeout=5)


def bodies(ledger: Ledger, selection: EventFilter) -> list[tuple[str, str]]:
    return list(ledger.event_bodies(selection))


def expected(ledger: Ledger, selection: EventFilter) -> list[tuple[str, str]]:
    return [(r.event.kind.value, r.event.canonical_json()) for r in ledger.records(selection)]


SELECTIONS = (
    EventFilter(),
    EventFilter(since=START + timedelta(days=30), until=START + timedelta(days=40)),
    EventFilter(kinds=(EventKind.DEPLOYMENT_APPROVAL, EventKind.PROTECTION_CHANGE)),
)


def test_sqlite_bodies_are_the_stored_canonical_json(tmp_path: Path) -> None:
    ledger = SqliteSink(tmp_path / "l.db")
    ledger.append(build().events, {})
    for selection in SELECTIONS:
        assert bodies(ledger, selection) == expected(ledger, selection)
    ledger.close()


@pytest.mark.postgres
def test_postgres_agrees_with_sqlite(postgres_url: str, tmp_path: Path) -> None:
    history = build()
    pg = PostgresSink.open(postgres_url, SETTINGS)
    lite = SqliteSink(tmp_path / "l.db")
    try:
        for store in (pg, lite):
            store.append(history.events, {})
        for selection in SELECTIONS:
            assert bodies(pg, selection) == bodies(lite, selection)
        # A judged period, and the whole ledger walked back from now in look-back slices.
        for selection in (Selection(since=history.judged_from), Selection()):
            found: list[Any] = [
                [a.to_dict() for a in detect_in_ledger(s, AnomalySettings(), selection).alerts]
                for s in (pg, lite)
            ]
            assert found[0] == found[1] and len(found[0]) == len(history.injected)
    finally:
        pg.close()
        lite.close()
