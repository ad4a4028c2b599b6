"""One poisoned GitLab record never stops ``collect``: against the fake GitLab on 127.0.0.1,
a pipeline or deployment answered with hostile values is quarantined, everything else is
stored exactly once, the run ends with exit 3 naming it, and the next run is clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_generate import expected_records, generate_group
from tests.plugins.pipeledger_gitlab.helpers import collect, ledger_events, records

pytestmark = pytest.mark.e2e


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab(generate_group()) as server:
        yield server


POISONS: dict[str, dict[str, Any]] = {
    "lone surrogate in the name": {"name": "build \ud800"},
    "year 1 with a positive offset": {
        "created_at": "0001-01-01T00:00:00+01:00",
        "updated_at": "0001-01-01T00:00:00+01:00",
        "finished_at": "0001-01-01T00:00:00+01:00",
        "started_at": "0001-01-01T00:00:00+01:00",
    },
    "a ref that is a number": {"ref": 12345},
    "an empty status": {"status": ""},
    "a sha that is not hex": {"sha": "not-a-sha; rm -rf /"},
    "an id that is an object": {"user": {"username": {"nested": True}}},
}


def _ledger_quarantine(db: Path) -> list[Any]:
    sinks = SinkSet.open([f"sqlite:///{db}"], SinkSettings(environ={}))
    try:
        return list(sinks.ledger.quarantined())
    finally:
        sinks.close()


@pytest.mark.parametrize("name", list(POISONS))
def test_a_poisoned_pipeline_is_quarantined_and_the_rest_collected(
    name: str, fake: FakeGitLab, tmp_path: Path
) -> None:
    project = fake.instance.projects[0]
    pipeline = project.pipelines[0]
    fake.poison[f"/projects/{project.id}/pipelines/{pipeline.id}"] = POISONS[name]
    db = tmp_path / "l.db"
    run = collect(fake, db, "--group", "acme")
    assert "Traceback" not in run.err
    held = _ledger_quarantine(db)
    stored = records(ledger_events(db))
    others = {
        r for r in expected_records(fake.instance) if r[1] != f"{pipeline.id}/{pipeline.status}"
    }
    assert others <= stored  # nothing else is lost
    if not held:  # repaired on the way in (text made valid, a non-hex sha left out)
        assert run.code == 0, run.err
        assert any(r[1] == f"{pipeline.id}/{pipeline.status}" for r in stored)
        return
    assert run.code == 3, run.err
    assert [r.native_id for r in held] == [str(pipeline.id)] or all(
        r.native_id.startswith(f"{pipeline.id}/") for r in held
    )
    assert "quarantined" in run.err and str(pipeline.id) in run.err
    rerun = collect(fake, db, "--group", "acme")
    assert rerun.code == 0, rerun.err
    assert len(_ledger_quarantine(db)) == len(held)


DEPLOYMENT_POISONS: dict[str, dict[str, Any]] = {
    "year 1 with a positive offset": {"created_at": "0001-01-01T00:00:00+01:00"},
    "an empty status": {"status": ""},
    "a ref that is a number": {"ref": 12345},
}


@pytest.mark.parametrize("name", list(DEPLOYMENT_POISONS))
def test_a_poisoned_deployment_is_quarantined(name: str, fake: FakeGitLab, tmp_path: Path) -> None:
    project = next(p for p in fake.instance.projects if p.deployments)
    deployment = project.deployments[0]
    fake.poison[f"/projects/{project.id}/deployments/{deployment.id}"] = DEPLOYMENT_POISONS[name]
    # The poisoned object is REST's single deployment, read when GraphQL cannot be (over
    # GraphQL only the approvals are read; hostile answers there: test_graphql_deployments).
    fake.graphql = False
    db = tmp_path / "l.db"
    run = collect(fake, db, "--group", "acme")
    assert "Traceback" not in run.err
    assert run.code == 3, run.err
    held = _ledger_quarantine(db)
    # The record (refused by the normalizer) or its event (refused by the event screen: an
    # empty status makes an empty action), named by id or by id/action.
    [record] = held
    assert record.endpoint == "/projects/:id/deployments/:deployment_id"
    assert record.native_id.split("/")[0] == str(deployment.id)
    assert f"id {record.native_id}: " in run.err and "quarantined" in run.err
    stored = records(ledger_events(db))
    others = {
        r
        for r in expected_records(fake.instance)
        if not (r[0] == "deployment" and r[1].startswith(f"{deployment.id}/"))
    }
    assert others <= stored  # nothing else is lost
    rerun = collect(fake, db, "--group", "acme")
    assert rerun.code == 0, rerun.err
    assert _ledger_quarantine(db) == held
