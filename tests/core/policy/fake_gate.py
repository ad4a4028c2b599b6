"""A gate-source adapter for tests: serves one GateCase's evidence, or fails like an API
that is down. Registered in place of the real adapters by the ``fake_platform`` fixture."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

import pytest

from pipeledger import registry
from pipeledger.collect.adapter import (
    Adapter,
    AdapterSettings,
    Batch,
    CiJob,
    CollectRequest,
    CursorReader,
    GateEvidence,
    GateSource,
)
from pipeledger.collect.progress import Progress
from pipeledger.errors import PlatformError, UsageError
from pipeledger.events import Actor, ActorType
from tests.core.policy.gate_cases import GateCase, normalized_events


class FakeGateAdapter(Adapter, GateSource):
    platform = "fake"
    case: ClassVar[GateCase | None] = None
    team_members: ClassVar[dict[str, frozenset[str]]] = {}
    requests: ClassVar[list[tuple[str | None, tuple[str, ...]]]] = []

    def __init__(self, settings: AdapterSettings) -> None:
        self.settings = settings

    @classmethod
    def create(cls, settings: AdapterSettings) -> FakeGateAdapter:
        return cls(settings)

    def collect(
        self, request: CollectRequest, cursors: CursorReader, progress: Progress
    ) -> Iterator[Batch]:
        return iter(())

    @classmethod
    def detects_ci(cls, environ: Mapping[str, str]) -> bool:
        return environ.get("FAKE_CI") == "true"

    def gate_evidence(self, environment: str | None, teams: Sequence[str]) -> GateEvidence:
        case = self._case()
        FakeGateAdapter.requests.append((environment, tuple(teams)))
        if case.api_down:
            raise PlatformError(
                "Cannot reach the API at http://127.0.0.1:9/: connection refused.",
                "Check the API URL and the runner's network, then re-run the job.",
            )
        events = normalized_events(case)
        run_id = events[0].correlation["run_id"]
        members = {t: m for t, m in self.team_members.items() if t in teams}
        return GateEvidence(
            run_id=run_id, environment=environment, events=events, team_members=members
        )

    def ci_job(self) -> CiJob | None:
        case = self._case()
        kind = ActorType.BOT if case.trigger_type == "Bot" else ActorType.USER
        return CiJob(
            platform="fake",
            instance="github.com",
            owner="octo-org",
            repository="octo-repo",
            run_id="30433642",
            run_attempt="1",
            actor=Actor(login=case.trigger, id="1", type=kind),
            ref=case.ref,
        )

    def _case(self) -> GateCase:
        assert self.case is not None, "set FakeGateAdapter.case first"
        return self.case


@pytest.fixture
def fake_platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeGateAdapter]]:
    def load(name: str, entries: object = None) -> type[Adapter]:
        if name == "fake":
            return FakeGateAdapter
        raise UsageError(f"No plugin provides the platform {name!r}.")

    monkeypatch.setattr(registry, "available_adapters", lambda entries=None: ["broken", "fake"])
    monkeypatch.setattr(registry, "load_adapter", load)
    FakeGateAdapter.case = None
    FakeGateAdapter.team_members = {}
    FakeGateAdapter.requests = []
    yield FakeGateAdapter
