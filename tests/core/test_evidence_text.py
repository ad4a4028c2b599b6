"""Golden text of ``audit`` and ``provenance`` over one small history that has what made the
old text wrong: a review recorded once per deployment of the same commit, an access change
seen by a snapshot difference and then by the audit log (one fact), a protection change
whose actor is unknown, and a policy without single-event rules (``0 event(s)``)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from pipeledger.events import AuditEvent, EventKind, Scope
from pipeledger.facts import FactMerger
from pipeledger.sinks.contract import SinkSettings
from pipeledger.snapshots import Grant, Protection, Snapshot, diff_snapshots
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.builders import OWNER, REPO, actor, approval, deployment, make, review, run

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "evidence"
POLICY = """\
version: 1
rules:
  - id: prod-approval
    type: require-approval
    severity: error
    match: {environments: [production]}
    min_approvals: 2
  - id: prod-review
    type: require-review
    severity: error
    match: {environments: [production]}
  - id: no-admin-grants
    type: permission-change
    severity: warning
"""
SCOPE = Scope(owner=OWNER, repository=REPO)
BEFORE = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
AFTER = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def reviews_per_deployment() -> list[AuditEvent]:
    """carol's approval of PR 7, recorded for each deployment of its commit (as collect
    records it), and dave's comment."""
    events = []
    for deployment_id in ("8", "9"):
        for login, state, at in (
            ("carol", "approved", "2026-03-10T09:00:00Z"),
            ("dave", "commented", "2026-03-10T09:30:00Z"),
        ):
            base = review(login, state, at=at, author="bob")
            native = f"{base.source.native_id}@{deployment_id}"
            events.append(
                replace(
                    base,
                    id=f"{deployment_id}{base.id[1:]}",
                    source=replace(base.source, native_id=native),
                    correlation={"pull_request": "7", "deployment_id": deployment_id},
                )
            )
    return events


def deploys() -> list[AuditEvent]:
    return [
        run(),
        approval("erin"),
        deployment("8", environment="staging", at="2026-03-11T10:01:00Z"),
        deployment("9", at="2026-03-11T10:05:00Z"),
        deployment("9", action="success", at="2026-03-11T10:09:00Z"),
        *reviews_per_deployment(),
    ]


def snapshot(at: datetime, role: str, no_self_review: bool) -> Snapshot:
    return Snapshot.build(
        "github",
        "github.com",
        f"{OWNER}/{REPO}",
        at,
        [Grant("user", "carol", role, SCOPE)],
        [Protection("environment:production", SCOPE, {"prevent_self_review": no_self_review})],
    )


def audit_entry() -> AuditEvent:
    """The audit log's record of carol's grant: who and when, but not the old role."""
    return make(
        EventKind.PERMISSION_CHANGE,
        "audit-1",
        action="changed",
        at="2026-03-10T15:00:00Z",
        who=actor("root"),
        target={"type": "user", "login": "carol"},
        attributes={"detected_by": "audit-log"},
    )


def write_ledger(path: Path, batches: Sequence[Sequence[AuditEvent]]) -> None:
    ledger = SqliteSink.open(f"sqlite:///{path}", SinkSettings(environ={}))
    try:
        merger = FactMerger(ledger)
        for batch in batches:
            ledger.append(merger.merge(batch), {})
    finally:
        ledger.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    differences = diff_snapshots(snapshot(BEFORE, "read", True), snapshot(AFTER, "admin", False))
    # The snapshot difference first (unknown actor), the audit log in a later run.
    write_ledger(path, [deploys(), differences, [audit_entry()]])
    return path


def cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ={"NO_COLOR": "1"}, stdout=out, stderr=err)
    return code, out.getvalue()


def matches_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PIPELEDGER_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"


def test_provenance_text(ledger: Path) -> None:
    code, out = cli("provenance", f"{OWNER}/{REPO}#9", "--sink", f"sqlite:///{ledger}")
    assert code == 0
    matches_golden("provenance.txt", out)
    assert "None" not in out and "0 event(s)" not in out
    assert out.count("carol approved #7") == 1  # once, though recorded per deployment
    assert "carol user read → admin by root" not in out  # the fact, not the difference
    assert "permission.change changed: carol: read → admin by root" in out


def test_audit_text_counts_what_it_judged(ledger: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    code, out = cli("audit", "--policy", str(policy), "--sink", f"sqlite:///{ledger}")
    assert code == 1
    matches_golden("audit.txt", out.replace(str(policy), "policy.yml"))
    # Two deployments (staging, production); their run, approval, three deployment events,
    # four recorded reviews, and the one standing permission change (not the difference
    # it superseded): ten events.
    assert "over 2 deployment(s) and 10 event(s)" in out
    assert out.count("[no-admin-grants]") == 1
