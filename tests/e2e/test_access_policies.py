"""The access-change example policy on permission and protection events as collection records
them from snapshot diffs: an admin grant nobody can name and a production reviewer removed are
findings; an unchanged state is not."""

from __future__ import annotations

import json
from pathlib import Path

from pipeledger.snapshots import diff_snapshots
from pipeledger_sqlite.sink import SqliteSink
from tests.core.test_snapshots import AFTER, BEFORE
from tests.e2e.github_expect import run_cli
from tests.paths import ROOT

POLICY = ROOT / "examples" / "policies" / "access-changes.yml"


def _audit(db: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, err = run_cli(
        ["audit", "--policy", str(POLICY), "--sink", f"sqlite:///{db}", "--format", "json"], {}
    )
    assert code in (0, 1), err
    return code, json.loads(out)


def test_admin_without_a_ticket_and_removed_reviewers_are_findings(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    ledger = SqliteSink(db)
    ledger.append(diff_snapshots(BEFORE, AFTER), {})
    ledger.close()
    code, report = _audit(db)
    assert code == 1
    found = sorted((f["rule_id"], f["message"]) for f in report["findings"])
    rules = [rule for rule, _ in found]
    assert rules.count("admin-needs-ticket") == 1
    assert "alice" in next(m for r, m in found if r == "admin-needs-ticket")
    drift = [m for r, m in found if r == "prod-guards-kept"]
    assert any("required_reviewers" in m for m in drift)
    assert any("prevent_self_review" in m for m in drift)


def test_no_changes_no_findings(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    SqliteSink(db).close()
    code, report = _audit(db)
    assert code == 0
    assert report["findings"] == []
