"""``pipeledger check`` end to end through the CLI, against the fake gate adapter: the
production cases of the baseline policy, recording, exit codes and outputs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from pipeledger.events import EventKind
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.fake_gate import FakeGateAdapter, fake_platform
from tests.core.policy.gate_cases import CASES, GateCase

__all__ = ["fake_platform"]
ROOT = Path(__file__).resolve().parents[3]
BASELINE = str(ROOT / "examples" / "policies" / "baseline.yml")
ENV = {"FAKE_CI": "true"}


def _signing_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


SIGNING_PEM = _signing_pem()


def check(
    tmp_path: Path, case: GateCase, *extra: str, environ: dict[str, str] | None = None
) -> tuple[int, str, str]:
    FakeGateAdapter.case = case
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "check",
        "--policy",
        BASELINE,
        "--environment",
        "production",
        "--sink",
        f"sqlite:///{tmp_path}/ledger.db",
        "--now",
        case.now,
        *extra,
    ]
    code = main(argv, environ={**ENV, **(environ or {})}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def ledger_events(tmp_path: Path, kind: EventKind) -> list:  # type: ignore[type-arg]
    ledger = SqliteSink(tmp_path / "ledger.db")
    try:
        return [r.event for r in ledger.records(EventFilter(kinds=(kind,)))]
    finally:
        ledger.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_production_deploys(
    fake_platform: type[FakeGateAdapter], tmp_path: Path, case: GateCase
) -> None:
    code, out, err = check(tmp_path, case, "--format", "json")
    assert code == case.expected_exit, err
    [decision] = ledger_events(tmp_path, EventKind.GATE_DECISION)
    assert decision.actor.login == case.trigger
    if case.api_down:
        assert decision.action == "error" and "connection refused" in decision.attributes["error"]
        assert "Check the API URL" in err
        return
    report = json.loads(out)
    assert report["schema"] == "pipeledger/findings/v1"
    assert sorted({f["rule_id"] for f in report["findings"]}) == list(case.failing_rules)
    assert decision.action == ("pass" if case.expected_exit == 0 else "fail")
    assert decision.correlation["run_id"] == "30433642"
    assert decision.scope.environment == "production"
    assert decision.attributes["policy_sha256"] == report["policy"]["sha256"]
    assert decision.attributes["findings"] == [f["id"] for f in report["findings"]]
    assert len(ledger_events(tmp_path, EventKind.PIPELINE_RUN)) == 1


def test_fail_open_lets_an_unjudged_deploy_through_loudly(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    down = next(c for c in CASES if c.api_down)
    outputs = tmp_path / "out.txt"
    code, _, err = check(
        tmp_path, down, "--fail-open", "--format", "github", environ={"GITHUB_OUTPUT": str(outputs)}
    )
    assert code == 0
    assert "WARNING: the gate could not judge this deployment" in err
    assert "decision=error" in outputs.read_text()
    assert ledger_events(tmp_path, EventKind.GATE_DECISION)[0].action == "error"


def test_fail_on_never_and_warning(fake_platform: type[FakeGateAdapter], tmp_path: Path) -> None:
    self_approved = CASES[1]
    assert check(tmp_path, self_approved, "--fail-on", "never")[0] == 0
    assert check(tmp_path, self_approved, "--fail-on", "warning")[0] == 1
    assert check(tmp_path, self_approved, "--fail-on", "sometimes")[0] == 2


def test_environment_and_policy_teams_reach_the_adapter(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    policy = tmp_path / "teams.yml"
    policy.write_text(
        "version: 1\nteams: {static: [zed]}\nrules:\n  - id: approvers\n"
        "    type: require-approval\n    approvers: {teams: [release, static]}\n",
        encoding="utf-8",
    )
    FakeGateAdapter.team_members = {"release": frozenset({"HUBOT"})}
    code, out, _ = check(tmp_path, CASES[0], "--policy", str(policy))
    assert FakeGateAdapter.requests == [("production", ("release",))]
    assert code == 0, out


def test_several_formats_at_once(fake_platform: type[FakeGateAdapter], tmp_path: Path) -> None:
    sarif, junit = tmp_path / "r.sarif", tmp_path / "r.xml"
    code, out, _ = check(
        tmp_path, CASES[3], "--output", f"sarif={sarif}", "--output", f"junit={junit}"
    )
    assert code == 1
    assert "FAIL" in out and "[prod-approval]" in out
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "prod-approval"
    assert 'failures="1"' in junit.read_text()


def test_github_format_writes_annotations_summary_outputs_and_masks(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "output.txt"
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "PIPELEDGER_SIGNING_KEY": SIGNING_PEM,  # held; its lines are not variables: announced
        "PIPELEDGER_WEBHOOK_SECRET": "s3cr3t-value",  # not used by this run: not announced
    }
    code, out, _ = check(tmp_path, CASES[5], "--format", "github", environ=environ)
    assert code == 1
    key_lines = [line for line in SIGNING_PEM.splitlines() if not line.startswith("-----")]
    assert out.startswith("".join(f"::add-mask::{line}\n" for line in key_lines))
    assert "s3cr3t-value" not in out
    assert "::error title=pipeledger prod-no-bots" in out
    assert "| error | `prod-no-bots` |" in summary.read_text()
    assert outputs.read_text() == "decision=fail\nviolations=1\n"


def test_no_ci_detected_is_a_usage_error(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    FakeGateAdapter.case = CASES[0]
    err = io.StringIO()
    argv = ["check", "--policy", BASELINE, "--sink", f"sqlite:///{tmp_path}/l.db"]
    assert main(argv, environ={}, stdout=io.StringIO(), stderr=err) == 2
    assert "broken could not be loaded" in err.getvalue() and "--platform" in err.getvalue()
    assert (
        main(
            [*argv, "--platform", "fake", "--now", CASES[0].now, "--environment", "production"],
            environ={},
            stdout=io.StringIO(),
            stderr=err,
        )
        == 0
    )


def test_without_environment_nothing_environment_scoped_applies(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    FakeGateAdapter.case = CASES[3]
    out = io.StringIO()
    argv = [
        "check",
        "--policy",
        BASELINE,
        "--sink",
        f"sqlite:///{tmp_path}/l.db",
        "--format",
        "json",
        "--now",
        CASES[3].now,
    ]
    assert main(argv, environ=ENV, stdout=out, stderr=io.StringIO()) == 0
    assert json.loads(out.getvalue())["findings"] == []


def test_options_from_environment_twins(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    FakeGateAdapter.case = CASES[2]
    out = io.StringIO()
    environ = {
        **ENV,
        "PIPELEDGER_POLICY": BASELINE,
        "PIPELEDGER_ENVIRONMENT": "production",
        "PIPELEDGER_FORMAT": "gitlab",
        "PIPELEDGER_OUTPUT": f"sarif={tmp_path}/a.sarif,json={tmp_path}/a.json",
        "PIPELEDGER_SINK": f"sqlite:///{tmp_path}/l.db",
        "PIPELEDGER_NOW": CASES[2].now,
    }
    assert main(["check"], environ=environ, stdout=out, stderr=io.StringIO()) == 1
    assert [i["check_name"] for i in json.loads(out.getvalue())] == ["prod-refs"]
    assert (tmp_path / "a.sarif").exists() and (tmp_path / "a.json").exists()
