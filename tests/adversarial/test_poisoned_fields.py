"""Hostile values in any field of any record, sent by a real HTTP server on 127.0.0.1 (the
hostile proxy in front of the fake GitHub and the fake GitLab): the CLI never crashes, every
stored event is valid against the event schema, what cannot be normalized is quarantined and
named (exit 3), nothing else is lost, and a rerun meeting the same poison is clean (exit 0, no
record quarantined twice).

The values are the ones that broke ``collect`` before (issue 15) and their relatives
(``tests/adversarial/payload_mutations.HOSTILE``); which record, field and value are chosen by a
fixed seed, the same on every run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeledger.ledger.quarantine import QuarantinedRecord
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from tests.adversarial.event_oracle import schema_errors
from tests.adversarial.hostile import ForeignHost, HostileProxy, Poisoned, poison_fields
from tests.adversarial.hostile_env import GITHUB_TOKEN, Outcome, assert_nothing_leaked
from tests.adversarial.payload_mutations import HOSTILE
from tests.adversarial.test_hostile_github import collect as collect_github
from tests.adversarial.test_hostile_gitlab import collect as collect_gitlab
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_generate import Size, generate_group

SEEDS = [int(s) for s in os.environ.get("PIPELEDGER_POISON_SEEDS", "1,2,3").split(",")]


def ledger_state(db: Path) -> tuple[list[dict[str, object]], list[QuarantinedRecord]]:
    """The stored events as JSON, and the quarantine, of a ledger whose chain verifies."""
    sinks = SinkSet.open([f"sqlite:///{db}"], SinkSettings(environ={}))
    try:
        events = [record.event.to_dict() for record in sinks.ledger.records()]
        return events, list(sinks.ledger.quarantined())
    finally:
        sinks.close()


def check_first_run(outcome: Outcome, db: Path) -> list[QuarantinedRecord]:
    """Exit 0 or 3, every stored event schema-valid, exit 3 exactly when something was
    quarantined, and then the notice names each record."""
    assert "Traceback" not in outcome.err
    events, held = ledger_state(db)
    assert events, outcome.err
    invalid = [(event, errors) for event in events if (errors := schema_errors(event))]
    assert invalid == []
    if held:
        assert outcome.code == 3, outcome.err
        assert "quarantined" in outcome.err
        for record in held:
            assert record.native_id in outcome.err, record
    else:
        assert outcome.code == 0, outcome.err
    return held


def check_rerun(outcome: Outcome, db: Path, held: list[QuarantinedRecord]) -> None:
    assert outcome.code == 0, outcome.err
    # Nothing quarantined twice, nothing new; the rerun may not even ask for those records
    # again (its watermark is past them), or meet them and say they are known.
    assert ledger_state(db)[1] == held


def run_ids(events: list[dict[str, object]]) -> set[str]:
    return {
        str(event["correlation"]["run_id"])  # type: ignore[index]
        for event in events
        if event["kind"] == "pipeline.run"
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_github_hostile_values_in_any_field(
    github: FakeGitHubServer,
    github_proxy: HostileProxy,
    foreign: ForeignHost,
    tmp_path: Path,
    seed: int,
) -> None:
    log: list[Poisoned] = []
    github_proxy.on(r"^/repos/", poison_fields(HOSTILE, seed=seed, log=log), forward_first=True)
    db = tmp_path / "l.db"
    first = collect_github(github_proxy, db)
    assert log, "the attack poisoned nothing"
    held = check_first_run(first, db)
    assert_nothing_leaked(foreign, first, [GITHUB_TOKEN], tmp_path)
    # Every run the attack left alone is stored, whatever happened to its neighbours.
    poisoned = {entry.record for entry in log}
    untouched = {
        str(run.id)
        for repo in github.org.repos.values()
        for run in repo.runs.values()
        if str(run.id) not in poisoned
    }
    assert untouched <= run_ids(ledger_state(db)[0])
    check_rerun(collect_github(github_proxy, db), db, held)


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, HostileProxy]]:
    # One subgroup, two projects: every record kind, and a third of the default's requests.
    group = generate_group(size=Size(subgroups=1, projects_per_group=1))
    with FakeGitLab(group) as fake, HostileProxy(f"http://127.0.0.1:{fake.port}") as proxy:
        yield fake, proxy


@pytest.mark.parametrize("seed", SEEDS)
def test_gitlab_hostile_values_in_any_field(
    gitlab: tuple[FakeGitLab, HostileProxy], tmp_path: Path, seed: int
) -> None:
    fake, proxy = gitlab
    log: list[Poisoned] = []
    proxy.on(
        r"/(projects|groups)/\d+/(pipelines|deployments|audit_events)",
        poison_fields(HOSTILE, seed=seed, log=log),
        forward_first=True,
    )
    db = tmp_path / "l.db"
    first = collect_gitlab(proxy, db)
    assert log, "the attack poisoned nothing"
    held = check_first_run(first, db)
    poisoned = {entry.record for entry in log}
    untouched = {
        str(pipeline.id)
        for project in fake.instance.projects
        for pipeline in project.pipelines
        if str(pipeline.id) not in poisoned
    }
    assert untouched <= run_ids(ledger_state(db)[0])
    check_rerun(collect_gitlab(proxy, db), db, held)
