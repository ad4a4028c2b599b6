"""The bundled demo responses: current with their builder, and collected offline by the real
adapter through the core's replay server into a verified ledger."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tools import demo_gitlab as demo_builder

from pipeledger.collect.adapter import AdapterSettings
from pipeledger.collect.progress import SilentProgress
from pipeledger.collect.run import collect_into
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.replay import serve_recorded
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from pipeledger_gitlab.adapter import GitLabAdapter
from tests.plugins.pipeledger_gitlab.conftest import assert_valid


def test_demo_file_is_what_the_builder_records() -> None:
    assert demo_builder.DEMO_FILE.read_text(encoding="utf-8") == demo_builder.render(
        demo_builder.record()
    ), "run: python -m tools.demo_gitlab"


def test_demo_collects_offline_through_the_adapter(tmp_path: Path) -> None:
    scenario = GitLabAdapter.demo_scenario()
    assert scenario is not None
    sinks = SinkSet.open([f"sqlite:///{tmp_path / 'demo.db'}"], SinkSettings(environ={}))
    try:
        with serve_recorded(scenario.responses) as base_url:
            settings = AdapterSettings(api_url=base_url, environ=scenario.environ, max_retries=0)
            summary = collect_into(
                GitLabAdapter.create(settings), scenario.request, sinks, SilentProgress()
            )
        assert verify_rows(sinks.ledger.rows()).ok
        events = [record.event for record in sinks.ledger.records()]
    finally:
        sinks.close()
    assert summary.stored == len(events) == 15
    for event in events:
        assert_valid(event)
    assert Counter(e.kind.value for e in events) == {
        "pipeline.run": 4,
        "deployment": 4,
        "deployment.approval": 2,
        "change.review": 2,
        "permission.change": 2,
        "protection.change": 1,
    }
    bots = {e.actor.login for e in events if e.actor.type.value == "bot"}
    assert bots == {"project_6_bot"}
