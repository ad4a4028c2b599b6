"""Deployment assembly shared by check and audit, and the gate's pending deployment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipeledger.collect.adapter import GateEvidence
from pipeledger.errors import MalformedResponse
from pipeledger.events import Scope
from pipeledger.policy.deployment_context import deployment_contexts
from pipeledger.policy.gate_decision import gate_contexts
from tests.core.policy.builders import approval, deployment, review, run

NOW = datetime(2026, 3, 11, 12, tzinfo=UTC)


def test_one_context_per_deployment_timed_by_creation() -> None:
    events = [
        deployment("9", action="success", at="2026-03-11T10:09:00Z"),
        deployment("9", action="created", at="2026-03-11T10:05:00Z"),
        deployment("10", at="2026-03-11T09:00:00Z"),
    ]
    contexts = deployment_contexts(events)
    assert [c.deployment_key for c in contexts] == ["10", "9"]
    assert contexts[1].when == datetime(2026, 3, 11, 10, 5, tzinfo=UTC)
    assert len(contexts[1].statuses) == 2


def test_same_ids_in_another_repository_are_not_joined() -> None:
    other = replace(run(trigger="mallory"), scope=Scope(owner="octo-org", repository="other"))
    other = replace(other, id="f" * 32)
    [ctx] = deployment_contexts([other, run(trigger="alice"), deployment(), approval("carol")])
    assert ctx.run is not None and ctx.run.actor.login == "alice"
    assert [a.actor.login for a in ctx.approvals] == ["carol"]


def test_full_ref_and_sha_come_from_the_run_when_the_deployment_lacks_them() -> None:
    [ctx] = deployment_contexts([run(ref="refs/tags/v1.0"), deployment(ref="v1.0")])
    assert ctx.ref == "refs/tags/v1.0"
    assert ctx.subject.describe().startswith("deployment 9 to production from refs/tags/v1.0")


def test_change_authors_come_from_the_linked_pull_requests() -> None:
    [ctx] = deployment_contexts([run(), deployment(), review("carol", author="Bob")])
    assert ctx.change_authors == frozenset({"bob"})


def test_gate_synthesizes_the_pending_deployment_from_the_run() -> None:
    evidence = GateEvidence(
        run_id="100",
        environment="production",
        events=[run(attempt="2", trigger="bob", initial="alice"), approval("carol")],
    )
    [ctx] = gate_contexts(evidence, "production", NOW)
    assert ctx.pending and ctx.when == NOW and ctx.environment == "production"
    assert ctx.deployer.login == "bob" and ctx.initial_actor == "alice"
    assert ctx.deployment_key == "pending:100/2/production"
    assert ctx.ref == "refs/heads/main"


def test_gate_borrows_the_recorded_deployment_id_for_review_links() -> None:
    recorded = deployment("55", attempt="1")
    linked = replace(
        review("carol", merge_sha="e" * 40),
        correlation={"deployment_id": "55", "pull_request": "7"},
    )
    evidence = GateEvidence(
        run_id="100", environment="production", events=[run(), recorded, linked]
    )
    [ctx] = gate_contexts(evidence, "production", NOW)
    assert ctx.deployment.correlation["deployment_id"] == "55"
    assert [r.actor.login for r in ctx.reviews] == ["carol"]


def test_gate_without_environment_judges_what_the_run_deployed() -> None:
    events = [run(), deployment("1", environment="staging"), deployment("2", run_id="999")]
    contexts = gate_contexts(GateEvidence(run_id="100", environment=None, events=events), None, NOW)
    assert [c.deployment_key for c in contexts] == ["1"]


def test_evidence_without_the_run_is_an_adapter_failure() -> None:
    with pytest.raises(MalformedResponse):
        gate_contexts(GateEvidence(run_id="100", environment=None, events=[]), None, NOW)
