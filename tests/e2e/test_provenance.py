"""``pipeledger provenance`` end to end: collect from the fake GitHub API, then join one
deployment to its trigger, approvals, review, protection rules and access changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.e2e.github_expect import github_collect_argv, run_cli
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org

TOKEN = "ghp_provenance_token"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    db = tmp_path_factory.mktemp("prov") / "l.db"
    with FakeGitHubServer(scenario_org(), token=TOKEN) as server:
        code, _, err = run_cli(github_collect_argv(server.base_url, db), {"GITHUB_TOKEN": TOKEN})
        assert code == 0, err
    yield db


def provenance(db: Path, ident: str, *extra: str) -> tuple[int, str, str]:
    return run_cli(["provenance", ident, "--sink", f"sqlite:///{db}", *extra], {})


def test_an_approved_deploy_names_trigger_approver_and_review(ledger: Path) -> None:
    code, out, err = provenance(ledger, "acme/api#5001", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["schema"] == "pipeledger/provenance/v1"
    assert report["deployment"]["environment"] == "production"
    assert report["run"]["actor"]["login"] == "alice"
    assert [(a["actor"]["login"], a["action"]) for a in report["approvals"]] == [
        ("bob", "approved")
    ]
    assert report["people"]["alice"][0] in ("triggered", "started the run")
    assert not any("approved a deployment they triggered" in c for c in report["concerns"])
    # The snapshot taken by this collect came after the deployment: nothing was in force yet.
    assert report["protections_in_force"]["observed_at"] is None


def test_a_self_approved_deploy_is_flagged(ledger: Path) -> None:
    code, out, _ = provenance(ledger, "acme/api#5002")
    assert code == 0
    assert "carol approved a deployment they triggered" in out
    assert "Approvals:" in out and "carol approved" in out


def test_an_approver_granted_admin_an_hour_before_is_flagged(ledger: Path, tmp_path: Path) -> None:
    source = SqliteSink(ledger)
    events = [r.event for r in source.records(EventFilter())]
    source.close()
    deployment = next(
        e
        for e in events
        if e.kind is EventKind.DEPLOYMENT and e.correlation.get("deployment_id") == "5001"
    )
    grant = AuditEvent(
        id=event_id("github", "github.com", "/orgs/{org}/audit-log", "doc-1"),
        kind=EventKind.PERMISSION_CHANGE,
        action="changed",
        occurred_at=deployment.occurred_at - timedelta(hours=1),
        platform=deployment.platform,
        instance=deployment.instance,
        actor=Actor(login="root", id="1", type=ActorType.USER),
        scope=Scope(owner="acme", repository="api"),
        source=Source(endpoint="/orgs/{org}/audit-log", native_id="doc-1"),
        target={"type": "user", "login": "bob"},
        change={"from": "write", "to": "admin"},
        attributes={"escalation": True},
    )
    copy = tmp_path / "copy.db"
    target = SqliteSink(copy)
    target.append(
        [
            *events,
            grant,
            replace(grant, id="0" * 32, occurred_at=grant.occurred_at - timedelta(days=30)),
        ],
        {},
    )
    target.close()
    code, out, _ = provenance(copy, "acme/api#5001", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert [c["id"] for c in report["access_changes"]] == [grant.id]  # the old one is outside
    assert "bob gained admin access 1 h before the deployment" in report["concerns"]


def test_an_unknown_or_ambiguous_deployment_is_a_usage_error(ledger: Path) -> None:
    code, _, err = provenance(ledger, "999999")
    assert code == 2
    assert "No deployment" in err


def test_the_protection_rules_in_force_at_the_deploy_are_shown(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tests.fakes.github_access import scenario_access
    from tests.fakes.github_data import FakeDeployment, FakeStatus

    db = tmp_path / "l.db"
    with FakeGitHubServer(scenario_org(), token=TOKEN, access=scenario_access()) as server:
        argv = github_collect_argv(server.base_url, db)
        assert run_cli(argv, {"GITHUB_TOKEN": TOKEN})[0] == 0
        repo = server.org.repos["api"]
        run = repo.runs[9002]
        when = datetime.now(UTC) + timedelta(seconds=5)
        deployment = repo.add_deployment(
            FakeDeployment(
                id=5999,
                repo="api",
                environment="production",
                ref="main",
                sha=run.head_sha,
                creator=run.triggering_actor,
                created_at=when,
                run_id=run.id,
                job_id=4242,
            )
        )
        repo.add_status(deployment, FakeStatus(6999, "success", run.triggering_actor, when))
        assert run_cli(argv, {"GITHUB_TOKEN": TOKEN})[0] == 0
    code, out, err = provenance(db, "acme/api#5999", "--format", "json")
    assert code == 0, err
    in_force = json.loads(out)["protections_in_force"]
    assert in_force["observed_at"] is not None
    targets = [rule["target"] for rule in in_force["rules"]]
    assert targets == ["environment:production"]  # api has no branch protection
    production = in_force["rules"][0]["settings"]
    assert production["required_reviewers"] == ["user:bob"]
    code, out, _ = provenance(db, "acme/api#5999")
    assert "Protection in force (as observed" in out
    assert "environment:production" in out
