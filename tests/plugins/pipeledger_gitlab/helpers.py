"""Running the real CLI against the fake GitLab and reading back what the ledger holds."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeledger.cli.main import main
from pipeledger.events import AuditEvent
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_generate import Record

ENV = {"GITLAB_TOKEN": DEFAULT_TOKEN}
# Retries a test does not want to wait for: one, after 10 ms.
QUICK_RETRIES = ("--retries", "1", "--backoff", "0.01")


@dataclass
class Run:
    code: int
    out: str
    err: str


def collect(fake: FakeGitLab, db: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "collect",
        "--platform",
        "gitlab",
        "--api-url",
        fake.api_url,
        "--sink",
        f"sqlite:///{db}",
    ]
    code = main([*argv, *args], ENV if env is None else env, out, err)
    return Run(code, out.getvalue(), err.getvalue())


def ledger_events(db: Path) -> list[AuditEvent]:
    sinks = SinkSet.open([f"sqlite:///{db}"], SinkSettings(environ={}))
    try:
        assert verify_rows(sinks.ledger.rows()).ok
        return [record.event for record in sinks.ledger.records()]
    finally:
        sinks.close()


def records(events: list[AuditEvent]) -> set[Record]:
    return {(e.kind.value, e.source.native_id, e.actor.login or "", e.action) for e in events}


def requests_under_hostile_graphql(fake: FakeGitLab, tmp_path: Path, answer: Any) -> Counter[str]:
    """Collects the fake's group over REST alone, then again with GraphQL answering
    ``answer`` to every query (quick retries: an html answer is retried like any GET);
    asserts both runs succeed with the same ledger, and returns what the second run asked
    for, by route."""
    fake.graphql = False
    assert collect(fake, tmp_path / "rest.db", "--group", "acme").code == 0
    fake.graphql, fake.graphql_answer = True, answer
    before = fake.counts()
    run = collect(fake, tmp_path / "hostile.db", "--group", "acme", *QUICK_RETRIES)
    assert run.code == 0, run.err
    assert ledger_events(tmp_path / "hostile.db") == ledger_events(tmp_path / "rest.db")
    return fake.counts() - before
