"""Fixtures for the GitHub adapter: a fake API behind ``responses``, a fake clock, a real
SQLite ledger, and a helper that runs a collection into it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import responses

from pipeledger.collect.adapter import AdapterSettings, CollectRequest
from pipeledger.collect.run import CollectSummary, collect_into
from pipeledger.events import AuditEvent
from pipeledger.sinks.contract import EventFilter, SinkSettings
from pipeledger.sinks.fanout import SinkSet
from pipeledger_github.adapter import GitHubAdapter
from pipeledger_github.auth import Endpoint
from tests.fakes.github_responses import FakeHub

NOW = 1_780_000_000.0  # 2026-05-28


@dataclass
class FakeClock:
    now: float = NOW
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class RecordingProgress:
    notices: list[str] = field(default_factory=list)
    pages: int = 0

    def update(
        self,
        *,
        repository: str | None = None,
        pages: int = 0,
        events: int = 0,
        rate_remaining: int | None = None,
    ) -> None:
        self.pages += pages

    def notice(self, message: str) -> None:
        self.notices.append(message)

    def expect(self, **_: object) -> None:
        return None


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


AdapterFactory = Callable[..., GitHubAdapter]


@pytest.fixture
def make_adapter(clock: FakeClock) -> AdapterFactory:
    def make(**overrides: Any) -> GitHubAdapter:
        settings = AdapterSettings(
            api_url="https://api.github.com",
            environ=overrides.pop("environ", {"GITHUB_TOKEN": "ghp_test_token_value"}),
            max_wait=overrides.pop("max_wait", 900.0),
            max_retries=overrides.pop("max_retries", 2),
            backoff_base=0.01,
        )
        endpoint = Endpoint("https://api.github.com", "github.com")
        return GitHubAdapter(
            settings, endpoint, "ghp_test_token_value", sleep=clock.sleep, clock=clock
        )

    return make


@pytest.fixture
def sinks(tmp_path: Path) -> Iterator[SinkSet]:
    opened = SinkSet.open([f"sqlite:///{tmp_path / 'ledger.db'}"], SinkSettings(environ={}))
    yield opened
    opened.close()


def run_collect(
    adapter: GitHubAdapter,
    sinks: SinkSet,
    request: CollectRequest | None = None,
    progress: RecordingProgress | None = None,
    *,
    snapshots: bool = False,
) -> CollectSummary:
    """Runs, deployments, approvals and reviews only, unless ``snapshots`` (those have their
    own tests in tests/plugins/pipeledger_github/snapshots)."""
    chosen = replace(request or CollectRequest(repositories=("acme/web",)), snapshots=snapshots)
    return collect_into(adapter, chosen, sinks, progress or RecordingProgress())


def stored_events(sinks: SinkSet) -> list[AuditEvent]:
    return [record.event for record in sinks.ledger.records(EventFilter())]
