"""``pipeledger audit`` over a real SQLite ledger: deployments outside any gate are found."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pipeledger.cli.main import main
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.builders import approval, deployment, review, run

ROOT = Path(__file__).resolve().parents[3]
BASELINE = str(ROOT / "examples" / "policies" / "baseline.yml")


def write_ledger(path: Path) -> None:
    ledger = SqliteSink(path)
    events = [
        # Deployment 1: fine (Wednesday, main, approved by carol, reviewed by dave).
        run("1", trigger="alice"),
        deployment("11", run_id="1", at="2026-03-11T10:05:00Z"),
        deployment("11", run_id="1", action="success", at="2026-03-11T10:09:00Z"),
        approval("carol", run_id="1"),
        review("dave", author="bob"),
        # Deployment 2: Saturday, from a branch, self-approved.
        run("2", trigger="erin", ref="refs/heads/hotfix", sha="b" * 40, at="2026-03-14T02:00:00Z"),
        deployment("22", run_id="2", ref="hotfix", sha="b" * 40, at="2026-03-14T02:05:00Z"),
        approval("erin", run_id="2", at="2026-03-14T02:01:00Z"),
        # Staging is not production: not judged.
        deployment("33", run_id=None, environment="staging", at="2026-03-14T03:00:00Z"),
    ]
    ledger.append(events, {})
    ledger.close()


def audit(tmp_path: Path, *extra: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    out, err = io.StringIO(), io.StringIO()
    argv = ["audit", "--policy", BASELINE, "--sink", f"sqlite:///{tmp_path}/l.db", *extra]
    code = main([*argv, "--format", "json"], environ={}, stdout=out, stderr=err)
    return code, json.loads(out.getvalue()) if out.getvalue() else {}, err.getvalue()


def test_audit_finds_what_no_gate_stopped(tmp_path: Path) -> None:
    write_ledger(tmp_path / "l.db")
    code, report, _ = audit(tmp_path)
    assert code == 1
    assert report["evaluated"]["deployments"] == 3  # staging is assembled, not judged
    found = {(f["rule_id"], f["subject"]["key"]) for f in report["findings"]}
    assert found == {
        ("prod-approval", "22"),
        ("prod-review", "22"),
        ("prod-refs", "22"),
        ("prod-window", "22"),
    }


def test_audit_period(tmp_path: Path) -> None:
    write_ledger(tmp_path / "l.db")
    code, report, _ = audit(tmp_path, "--until", "2026-03-12")
    assert code == 0 and report["findings"] == [] and report["evaluated"]["deployments"] == 1
    code, report, _ = audit(tmp_path, "--since", "2026-03-12", "--fail-on", "never")
    assert code == 0 and len(report["findings"]) == 4


def test_audit_warns_about_teams_it_cannot_resolve(tmp_path: Path) -> None:
    write_ledger(tmp_path / "l.db")
    policy = tmp_path / "p.yml"
    policy.write_text(
        "version: 1\nrules:\n  - id: a\n    type: require-approval\n"
        "    approvers: {teams: [release]}\n",
        encoding="utf-8",
    )
    code, _, err = audit(tmp_path, "--policy", str(policy))
    assert code == 1 and "team(s) release without listing their members" in err


def test_audit_of_a_missing_ledger_is_a_usage_error_and_creates_nothing(tmp_path: Path) -> None:
    code, report, err = audit(tmp_path)
    assert code == 2 and report == {}
    assert f"no ledger at {tmp_path}/l.db" in err and "pipeledger collect" in err
    assert not (tmp_path / "l.db").exists()


def test_audit_of_a_period_without_deployments_exits_2(tmp_path: Path) -> None:
    write_ledger(tmp_path / "l.db")
    code, report, err = audit(tmp_path, "--since", "2027-01-01")
    assert code == 2 and report == {}
    assert "audit found no deployment since 2027-01-01T00:00:00Z" in err
    assert "--allow-empty" in err


def test_allow_empty_passes_an_empty_period(tmp_path: Path) -> None:
    write_ledger(tmp_path / "l.db")
    code, report, _ = audit(tmp_path, "--since", "2027-01-01", "--allow-empty")
    assert code == 0 and report["evaluated"]["deployments"] == 0 and report["findings"] == []


def test_bad_output_options_are_usage_errors(tmp_path: Path) -> None:
    for extra in (["--output", "nope=x.txt"], ["--output", "sarif"], ["--format", "xml"]):
        err = io.StringIO()
        argv = ["audit", "--policy", BASELINE, "--sink", f"sqlite:///{tmp_path}/l.db", *extra]
        assert main(argv, environ={}, stdout=io.StringIO(), stderr=err) == 2, extra
        assert "pipeledger: error:" in err.getvalue()


def test_policy_is_required(tmp_path: Path) -> None:
    err = io.StringIO()
    code = main(
        ["audit", "--sink", f"sqlite:///{tmp_path}/l.db"],
        environ={},
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2 and "audit needs --policy FILE" in err.getvalue()


def test_look_back_bounds_how_far_back_context_is_joined(tmp_path: Path) -> None:
    """Deployment 11's review came a day before it: inside the default 90 days, outside 1h."""
    write_ledger(tmp_path / "l.db")
    _, wide, _ = audit(tmp_path, "--fail-on", "never")
    _, narrow, _ = audit(tmp_path, "--fail-on", "never", "--look-back", "1h", "--look-ahead", "2d")
    before = {(f["rule_id"], f["subject"]["key"]) for f in wide["findings"]}
    after = {(f["rule_id"], f["subject"]["key"]) for f in narrow["findings"]}
    assert after - before == {("prod-review", "11")}


def test_a_bad_window_is_a_usage_error(tmp_path: Path) -> None:
    write_ledger(tmp_path / "l.db")
    for option, value in (("--look-back", "ninety days"), ("--look-ahead", "0d")):
        code, report, err = audit(tmp_path, option, value)
        assert code == 2 and report == {}
        assert f"{option} {value!r} is not a duration" in err and "Traceback" not in err
