"""One poisoned GitHub record never stops a collection: it is quarantined (kept raw with its
reason), the other records are stored, and a rerun neither crashes nor reports it again."""

from __future__ import annotations

from typing import Any

import pytest

from pipeledger.sinks.fanout import SinkSet
from tests.fakes.github_responses import FakeHub
from tests.plugins.pipeledger_github import payloads
from tests.plugins.pipeledger_github.conftest import (
    AdapterFactory,
    RecordingProgress,
    run_collect,
    stored_events,
)

GOOD = "2026-05-04T10:00:00Z"


def _poison(field: str, value: Any) -> dict[str, Any]:
    run = payloads.run(9001, GOOD)
    run[field] = value
    return run


POISONS = {
    "lone surrogate in the title": ("display_title", "deploy \ud800 now"),
    "lone surrogate in the name": ("name", "\udfff"),
    "year 1 with a positive offset": ("created_at", "0001-01-01T00:00:00+01:00"),
    "year 1 in UTC": ("run_started_at", "0001-01-01T00:00:00Z"),
    "a ref that is a number": ("head_branch", 12345),
    "an empty status": ("status", ""),
    "a status that is a list": ("status", ["completed"]),
    "an html_url that is no URL": ("html_url", "not a url"),
    "an owner that is empty": ("repository", {"full_name": "/web"}),
    "an actor that is a string": ("actor", "alice"),
}


@pytest.mark.parametrize("name", list(POISONS))
def test_a_poisoned_run_does_not_stop_the_collection(
    name: str, hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    field, value = POISONS[name]
    repo = hub.repo("acme/web")
    repo.runs += [_poison(field, value), payloads.run(9002, "2026-05-05T10:00:00Z")]
    progress = RecordingProgress()
    summary = run_collect(make_adapter(), sinks, progress=progress)
    stored = {e.correlation.get("run_id") for e in stored_events(sinks)}
    assert "9002" in stored  # the good record is kept whatever happened to the bad one
    held = list(sinks.ledger.quarantined())
    if "9001" in stored:
        # Repaired on the way in (text made valid UTF-8, a bad link or ref left out): valid.
        assert held == []
        return
    assert [r.native_id.split("/")[0] for r in held] == ["9001"]
    assert held[0].endpoint == "/repos/{owner}/{repo}/actions/runs"
    assert summary.quarantined == held
    assert any("quarantined" in notice and "9001" in notice for notice in progress.notices)
    again = run_collect(make_adapter(), sinks, progress=RecordingProgress())
    assert again.quarantined == []
    assert len(list(sinks.ledger.quarantined())) == 1


def test_a_lone_surrogate_is_stored_as_the_replacement_character(
    hub: FakeHub, make_adapter: AdapterFactory, sinks: SinkSet
) -> None:
    hub.repo("acme/web").runs.append(_poison("display_title", "deploy \ud800 now"))
    run_collect(make_adapter(), sinks)
    [event] = stored_events(sinks)
    assert event.attributes["display_title"] == "deploy \ufffd now"


@pytest.mark.parametrize("stamp", [2**63, -(2**62), 10**20])
def test_an_audit_log_entry_with_an_impossible_epoch_is_skipped_not_a_crash(stamp: int) -> None:
    """Found by fuzzing the GHEC audit-log schema: a millisecond epoch past what a datetime
    holds raised OverflowError out of collect, which maps audit entries unguarded."""
    from pipeledger_github.audit.events import audit_event

    entry = {"action": "org.add_member", "_document_id": "d1", "@timestamp": stamp, "user": "a"}
    assert audit_event(entry, "acme", "github.com") is None
