"""Property-based fuzzing of every collect normalizer, from the official payload shapes.

GitHub payloads are generated with hypothesis-jsonschema from GitHub's own REST response
schemas as the npm package ``@octokit/openapi`` ships them (``tests/fixtures/octokit-openapi``,
MIT): workflow runs, deployments, deployment statuses, environment approvals, pull requests and
their reviews, and the GHEC audit log. Then up to three fields — nested ones too — are made
hostile (lone surrogates, out-of-range times, numbers where text belongs, empty strings,
control characters, huge values). GitLab payloads are the documentation examples (pipelines,
deployments with their approvals, merge requests with their approvers, audit events) mutated
the same way. Through the same path ``collect`` takes (the adapter's quarantine guard, the
records a normalizer refuses, then the event screen), no exception escapes, and every event
that would be stored is valid against ``schemas/event.v1.schema.json``.

Default run: 50 examples per normalizer with a fixed seed (derandomized); ``make fuzz`` sets
``PIPELEDGER_FUZZ_EXAMPLES`` (thousands each, random seed).
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
from pipeledger.events import AuditEvent, Scope
from pipeledger.ledger.quarantine import Holding
from pipeledger_github.audit.events import PERMISSION_ACTIONS, PROTECTION_ACTIONS
from pipeledger_github.audit.events import audit_event as github_audit_event
from pipeledger_github.normalize.fields import Oddities
from pipeledger_github.normalize.pipelines import deployment_events as github_deployment_events
from pipeledger_github.normalize.pipelines import run_event
from pipeledger_github.normalize.reviews import approval_events
from pipeledger_github.normalize.reviews import review_events as github_review_events
from pipeledger_gitlab.audit.events import audit_event as gitlab_audit_event
from pipeledger_gitlab.audit.events import author_actor
from pipeledger_gitlab.normalize.pipelines import (
    Origin,
    ProjectRef,
    deployment_approval_events,
    pipeline_event,
)
from pipeledger_gitlab.normalize.pipelines import deployment_events as gitlab_deployment_events
from pipeledger_gitlab.normalize.pipelines import review_events as gitlab_review_events
from tests.adversarial.event_oracle import schema_errors
from tests.adversarial.payload_mutations import mutated, octokit_schema
from tests.paths import fixture

# 50 examples per normalizer by default (500 in all), the same ones every run; make fuzz asks
# for thousands.
EXAMPLES = int(os.environ.get("PIPELEDGER_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize="PIPELEDGER_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Figures for docs/bench/integrity.md: inputs fuzzed, events screened out, invalid events
# let through.
FIGURES: dict[str, int] = {
    "inputs": 0,
    "events": 0,
    "refused": 0,
    "quarantined": 0,
    "let_through": 0,
}
INSTANCE = "github.com"


def _through_collect(
    make: Callable[[Oddities], list[AuditEvent] | AuditEvent | None],
    raw: Any,
    *,
    guarded: bool = True,
) -> None:
    """What collect does with one record: guard the normalizer (with the quarantine attached
    to its notes, as collect attaches it), then screen its events. ``guarded=False`` for a
    normalizer collect calls without the guard: it must not raise at all."""
    held = Holding("fuzz")
    notes = Oddities()
    notes.holding = held
    if guarded:
        made = held.guard(lambda: make(notes), raw=raw, endpoint="/fuzz", native_id=None, what="x")
    else:
        made = make(notes)
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


def _copies(value: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda: copy.deepcopy(value))


def _generated(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return mutated(from_schema(octokit_schema(name)))


def _with_action(entry: dict[str, Any], action: str) -> dict[str, Any]:
    """An audit-log entry the normalizer maps (most generated actions it would ignore)."""
    return {**entry, "action": action}


RUN = _generated("workflow-run")
DEPLOYMENT = _generated("deployment")
STATUS = _generated("deployment-status")
APPROVAL = _generated("environment-approvals")
# GitHub's pull-request-simple example rather than its schema: 80-field repositories on both
# sides make hypothesis-jsonschema take seconds an example.
PULL = mutated(_copies(_example("github", "rest", "commits-pulls.pull-request-simple-items.json")))
REVIEW = _generated("pull-request-review")
AUDIT_ACTIONS = sorted(PERMISSION_ACTIONS) + sorted(PROTECTION_ACTIONS)
AUDIT_ENTRY = mutated(
    st.builds(
        _with_action, from_schema(octokit_schema("audit-log-event")), st.sampled_from(AUDIT_ACTIONS)
    )
)
GITLAB_PIPELINE = _example("gitlab", "docs", "pipelines-get.json")
GITLAB_DEPLOYMENT = _example("gitlab", "docs", "deployments-get.json")
GITLAB_APPROVALS = {
    **GITLAB_DEPLOYMENT,
    **_example(
        "gitlab", "docs", "deployments-get.approvals-fragment.unified-approval-setting.json"
    ),
    **_example(
        "gitlab", "docs", "deployments-get.approval_summary-fragment.multiple-approval-rules.json"
    ),
}
GITLAB_MERGE_REQUEST = _example("gitlab", "docs-extra", "merge-requests-list-project.json")
GITLAB_MR_APPROVALS = _example("gitlab", "docs", "mr-approvals-get-configuration.json")
GITLAB_AUDIT = _example("gitlab", "docs", "audit-events-project-list.json")
ORIGIN = Origin("gitlab.example.com", ProjectRef(7, "acme/web"))


@FUZZ
@given(RUN)
def test_github_workflow_runs(run: dict[str, Any]) -> None:
    _through_collect(
        lambda notes: run_event(run, INSTANCE, repository="acme/web", oddities=notes), run
    )


@FUZZ
@given(DEPLOYMENT, st.lists(STATUS, max_size=2))
def test_github_deployments_and_statuses(
    deployment: dict[str, Any], statuses: list[dict[str, Any]]
) -> None:
    _through_collect(
        lambda notes: github_deployment_events(
            deployment, statuses, INSTANCE, repository="acme/web", oddities=notes
        ),
        deployment,
    )


@FUZZ
@given(st.lists(APPROVAL, min_size=1, max_size=2), RUN, st.lists(DEPLOYMENT, max_size=2))
def test_github_approvals(
    approvals: list[dict[str, Any]], run: dict[str, Any], deployments: list[dict[str, Any]]
) -> None:
    _through_collect(
        lambda notes: approval_events(
            approvals, run, deployments, INSTANCE, repository="acme/web", oddities=notes
        ),
        approvals,
    )


@FUZZ
@given(PULL, st.lists(REVIEW, min_size=1, max_size=2), st.none() | DEPLOYMENT)
def test_github_reviews(
    pull: dict[str, Any], reviews: list[dict[str, Any]], deployment: dict[str, Any] | None
) -> None:
    _through_collect(
        lambda notes: github_review_events(
            pull, reviews, deployment, INSTANCE, repository="acme/web", oddities=notes
        ),
        reviews,
    )


@FUZZ
@given(AUDIT_ENTRY)
def test_github_audit_log(entry: dict[str, Any]) -> None:
    # The audit log's entries are mapped without the guard (an entry it cannot use is
    # skipped and counted): the mapping itself must never raise.
    _through_collect(
        lambda notes: github_audit_event(entry, "acme", INSTANCE), entry, guarded=False
    )


@FUZZ
@given(mutated(_copies(GITLAB_PIPELINE)))
def test_gitlab_pipelines(pipeline: dict[str, Any]) -> None:
    _through_collect(lambda notes: pipeline_event(ORIGIN, pipeline), pipeline)


@FUZZ
@given(mutated(_copies(GITLAB_DEPLOYMENT)))
def test_gitlab_deployments(deployment: dict[str, Any]) -> None:
    _through_collect(lambda notes: gitlab_deployment_events(ORIGIN, deployment), deployment)


@FUZZ
@given(mutated(_copies(GITLAB_APPROVALS)))
def test_gitlab_deployment_approvals(deployment: dict[str, Any]) -> None:
    _through_collect(lambda notes: deployment_approval_events(ORIGIN, deployment), deployment)


@FUZZ
@given(
    mutated(_copies(GITLAB_MERGE_REQUEST)),
    mutated(_copies(GITLAB_MR_APPROVALS)),
    st.none() | mutated(_copies(GITLAB_DEPLOYMENT)),
)
def test_gitlab_merge_request_reviews(
    merge_request: dict[str, Any], approvals: dict[str, Any], deployment: dict[str, Any] | None
) -> None:
    _through_collect(
        lambda notes: gitlab_review_events(ORIGIN, merge_request, approvals, deployment),
        approvals,
    )


@FUZZ
@given(mutated(_copies(GITLAB_AUDIT)))
def test_gitlab_audit_events(item: dict[str, Any]) -> None:
    scope = Scope(owner="acme", repository="acme/web")
    _through_collect(
        lambda notes: gitlab_audit_event(
            "gitlab.example.com",
            scope,
            "/projects/:id/audit_events",
            item,
            author_actor(item, None),
        ),
        item,
    )


@pytest.fixture(scope="module", autouse=True)
def _report_figures() -> Any:
    yield
    print(f"\nfuzz figures: {FIGURES}")
