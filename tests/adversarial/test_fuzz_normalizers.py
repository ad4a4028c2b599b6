"""Property-based fuzzing of every collect normalizer, from the official payload shapes.

GitHub payloads are generated from GitHub's own REST schemas (``workflow-run``,
``deployment``) with hypothesis-jsonschema and then up to three fields — nested ones too —
are made hostile (lone surrogates, out-of-range times, numbers where text belongs, empty
strings, control characters, huge values). GitLab payloads are the documentation examples
mutated the same way. Through the same path ``collect`` takes (the adapter's quarantine guard,
then the event screen), no exception escapes, and every event that would be stored is valid
against ``schemas/event.v1.schema.json``.

Default run: a few hundred examples with a fixed seed (derandomized); ``make fuzz`` runs the
``fuzz`` profile (thousands each) — see tests/adversarial/conftest.py.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from pipeledger.event_check import screen
from pipeledger.events import AuditEvent
from pipeledger.quarantine import Holding
from pipeledger_github.fields import Oddities
from pipeledger_github.normalize import deployment_events as github_deployment_events
from pipeledger_github.normalize import run_event
from pipeledger_gitlab.normalize import Origin, ProjectRef, pipeline_event
from pipeledger_gitlab.normalize import deployment_events as gitlab_deployment_events
from tests.adversarial.event_oracle import schema_errors
from tests.adversarial.payload_mutations import github_schema, mutated
from tests.paths import fixture

# A few hundred examples in all by default, the same ones every run; make fuzz asks for more.
EXAMPLES = int(os.environ.get("PIPELEDGER_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize="PIPELEDGER_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Figures for docs/bench/fuzz.md: inputs fuzzed, events screened out, invalid events let through.
FIGURES: dict[str, int] = {
    "inputs": 0,
    "events": 0,
    "refused": 0,
    "quarantined": 0,
    "let_through": 0,
}


def _through_collect(make: Callable[[], list[AuditEvent] | AuditEvent], raw: Any) -> None:
    """What collect does with one record: guard the normalizer, screen its events."""
    held = Holding("fuzz")
    made = held.guard(make, raw=raw, endpoint="/fuzz", native_id=None, what="record")
    events = [] if made is None else made if isinstance(made, list) else [made]
    screened = screen(events)
    FIGURES["inputs"] += 1
    FIGURES["events"] += len(events)
    FIGURES["refused"] += len(screened.refused)
    FIGURES["quarantined"] += len(held.take())
    for event in screened.valid:
        errors = schema_errors(event.to_dict())
        FIGURES["let_through"] += bool(errors)
        assert not errors, (errors, event.to_dict())
        event.canonical_json().encode("utf-8")  # storable


def _example(*parts: str) -> Any:
    value = json.loads(fixture(*parts).read_text(encoding="utf-8"))
    return value[0] if isinstance(value, list) else value


RUNS = mutated(from_schema(github_schema("workflow-run.schema.json")))
DEPLOYMENTS = mutated(from_schema(github_schema("deployment.schema.json")))
STATUS = _example("github", "rest", "deployments-statuses-list.deployment-status-items.json")
GITLAB_PIPELINE = _example("gitlab", "docs", "pipelines-get.json")
GITLAB_DEPLOYMENT = _example("gitlab", "docs", "deployments-get.json")
ORIGIN = Origin("gitlab.example.com", ProjectRef(7, "acme/web"))


def _copies(value: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda: copy.deepcopy(value))


@FUZZ
@given(RUNS)
def test_github_workflow_runs(run: dict[str, Any]) -> None:
    _through_collect(
        lambda: run_event(run, "github.com", repository="acme/web", oddities=Oddities()), run
    )


@FUZZ
@given(DEPLOYMENTS, mutated(_copies(STATUS)))
def test_github_deployments(deployment: dict[str, Any], status: dict[str, Any]) -> None:
    _through_collect(
        lambda: github_deployment_events(
            deployment, [status], "github.com", repository="acme/web", oddities=Oddities()
        ),
        deployment,
    )


@FUZZ
@given(mutated(_copies(GITLAB_PIPELINE)))
def test_gitlab_pipelines(pipeline: dict[str, Any]) -> None:
    _through_collect(lambda: pipeline_event(ORIGIN, pipeline), pipeline)


@FUZZ
@given(mutated(_copies(GITLAB_DEPLOYMENT)))
def test_gitlab_deployments(deployment: dict[str, Any]) -> None:
    _through_collect(lambda: gitlab_deployment_events(ORIGIN, deployment), deployment)


@pytest.fixture(scope="module", autouse=True)
def _report_figures() -> Any:
    yield
    print(f"\nfuzz figures: {FIGURES}")
