"""``pipeledger anomalies`` and ``anomalies ack`` end to end over a real SQLite ledger."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeledger.cli.main import main
from pipeledger.events import AuditEvent, EventKind
from pipeledger.formats.ecs import to_ecs
from pipeledger.formats.ocsf import to_ocsf
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.conftest import ROOT
from tests.core.anomalies.synthetic import History

SCHEMA = json.loads((ROOT / "schemas" / "anomalies.v1.schema.json").read_text())
EVENT_SCHEMA = json.loads((ROOT / "schemas" / "event.v1.schema.json").read_text())
SINCE = "2026-02-02"


@pytest.fixture
def ledger(ledger_file: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ledger.db"
    shutil.copy(ledger_file, copy)
    return copy


def cli(ledger: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = ["anomalies", "--sink", f"sqlite:///{ledger}", *argv]
    code = main(args, environ=env or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def alerts_json(ledger: Path, *argv: str) -> dict[str, Any]:
    code, out, err = cli(ledger, "--since", SINCE, "--format", "json", *argv)
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def anomaly_events(ledger: Path) -> list[AuditEvent]:
    store = SqliteSink(ledger)
    try:
        return [r.event for r in store.records(EventFilter(kinds=(EventKind.ANOMALY,)))]
    finally:
        store.close()


def test_json_follows_its_schema(ledger: Path, history: History) -> None:
    document = alerts_json(ledger)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        document
    )
    assert len(document["anomalies"]) == len(history.injected)
    first = document["anomalies"][0]
    assert isinstance(first["subject"]["deployment_id"], str)
    assert first["links"]["docs"].endswith(f"/anomalies/#{first['detector']}")


def test_text_names_each_alert_and_its_id(ledger: Path) -> None:
    code, out, _ = cli(ledger, "--since", SINCE, "--min-severity", "high")
    assert code == 0
    assert out.startswith("pipeledger anomalies: 4 anomaly alerts (4 high)")
    assert "frank was given admin on acme/web" in out


def test_record_appends_each_alert_once_as_a_valid_event(ledger: Path) -> None:
    code, _, err = cli(ledger, "--since", SINCE, "--record")
    assert code == 0 and "recorded 9 new anomaly alert(s)" in err
    code, _, err = cli(ledger, "--since", "2026-01-20", "--record")
    assert "recorded 0 new anomaly alert(s)" in err
    events = anomaly_events(ledger)
    assert len(events) == 9 and {e.action for e in events} == {"raised"}
    validator = jsonschema.Draft202012Validator(EVENT_SCHEMA)
    for event in events:
        validator.validate(event.to_dict())
    assert to_ocsf_record(events[0])["class_name"] == "Detection Finding"


def to_ocsf_record(event: AuditEvent) -> dict[str, Any]:
    from pipeledger.sinks.contract import LedgerRecord

    record = LedgerRecord(seq=1, prev_hash="0" * 64, hash="1" * 64, event=event)
    assert to_ecs(record)["event"]["kind"] == "alert"
    return to_ocsf(record)


def test_an_acknowledged_alert_is_not_raised_again(ledger: Path) -> None:
    alert = alerts_json(ledger)["anomalies"][0]
    code, out, _ = cli(
        ledger, "ack", alert["id"], "--reason", "planned evening release", env={"USER": "maria"}
    )
    assert code == 0 and "Acknowledged" in out and "by maria" in out
    after = alerts_json(ledger)
    assert alert["id"] not in {a["id"] for a in after["anomalies"]}
    assert after["acknowledged"] == [alert["id"]]
    code, out, _ = cli(ledger, "ack", alert["id"], "--reason", "again", "--by", "bob")
    assert code == 0 and "already acknowledged" in out
    acks = [e for e in anomaly_events(ledger) if e.action == "acknowledged"]
    assert [(e.actor.login, e.attributes["reason"]) for e in acks] == [
        ("maria", "planned evening release")
    ]


def test_unknown_alert_id_is_a_usage_error(ledger: Path) -> None:
    code, _, err = cli(ledger, "ack", "0" * 32, "--reason", "x", "--by", "bob")
    assert code == 2 and "No anomaly alert has the id" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--min-severity", "urgent"], "--min-severity 'urgent' is not a severity"),
        (["--format", "junit"], "junit is not an anomalies format"),
        (["--since", "2026-03-01", "--until", "2026-02-01"], "--since must be earlier"),
    ],
)
def test_bad_options_exit_2(ledger: Path, argv: list[str], message: str) -> None:
    code, _, err = cli(ledger, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_policy_section_tunes_and_is_validated(ledger: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    rules = "rules:\n  - {id: admins, type: permission-change, severity: error}\n"
    policy.write_text(
        "version: 1\n" + rules + "anomalies:\n  detectors:\n    deploy-burst: {enabled: false}\n"
    )
    document = alerts_json(ledger, "--policy", str(policy))
    assert "deploy-burst" not in {a["detector"] for a in document["anomalies"]}
    policy.write_text(
        "version: 1\n" + rules + "anomalies:\n  detectors:\n    deploy-burst: {factr: 3}\n"
    )
    code, _, err = cli(ledger, "--policy", str(policy))
    assert code == 2 and "policy.yml" in err and "factr" in err


def test_sarif_lists_one_rule_per_detector(ledger: Path) -> None:
    code, out, _ = cli(ledger, "--since", SINCE, "--format", "sarif")
    assert code == 0
    run = json.loads(out)["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == 7
    assert len(run["results"]) == 9


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ={}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_provenance_and_audit_mention_recorded_alerts(ledger: Path) -> None:
    assert cli(ledger, "--since", SINCE, "--record")[0] == 0
    sink = f"sqlite:///{ledger}"
    code, out, err = run_main("provenance", "acme/web#1909", "--sink", sink)
    assert code == 0, err
    assert "Anomaly alerts:\n  HIGH privilege-escalation: frank was given admin" in out
    alert = next(
        a for a in alerts_json(ledger)["anomalies"] if a["subject"]["deployment_id"] == "1909"
    )
    assert cli(ledger, "ack", alert["id"], "--reason", "CHG-7 filed late", "--by", "root")[0] == 0
    code, out, _ = run_main("provenance", "acme/web#1909", "--sink", sink, "--format", "json")
    [mentioned] = json.loads(out)["anomalies"]
    assert mentioned["acknowledged"] == {"by": "root", "reason": "CHG-7 filed late"}
    policy = str(ROOT / "examples" / "policies" / "baseline.yml")
    code, out, err = run_main("audit", "--policy", policy, "--since", SINCE, "--sink", sink)
    assert code in (0, 1), err
    assert "note: anomaly alert (high, protection-toggle) on deployment 1915 of acme/api" in out
    assert "deployment 1909 of" not in out  # acknowledged


def test_output_files_and_ci_formats(ledger: Path, tmp_path: Path) -> None:
    """--output FORMAT=PATH writes each format next to stdout's; github prints workflow
    annotations (error for high, warning for medium) and gitlab a code-quality report."""
    paths = {name: tmp_path / f"alerts.{name}" for name in ("json", "sarif", "gitlab", "text")}
    outputs = [arg for name, path in paths.items() for arg in ("--output", f"{name}={path}")]
    code, out, err = cli(ledger, "--since", SINCE, "--format", "github", *outputs)
    assert code == 0, err
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert len([a for a in annotations if a.startswith("::error ")]) == 4
    assert len([a for a in annotations if a.startswith("::warning ")]) == 5
    document = json.loads(paths["json"].read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert len(document["anomalies"]) == 9
    assert len(json.loads(paths["sarif"].read_text())["runs"][0]["results"]) == 9
    quality = json.loads(paths["gitlab"].read_text())
    assert len(quality) == 9 and {issue["severity"] for issue in quality} >= {"critical", "major"}
    assert paths["text"].read_text().startswith("pipeledger anomalies: 9 anomaly alerts")


def test_options_from_the_environment(ledger: Path) -> None:
    env = {"PIPELEDGER_SINCE": SINCE, "PIPELEDGER_MIN_SEVERITY": "high"}
    code, out, err = cli(ledger, env=env)
    assert code == 0, err
    assert out.startswith("pipeledger anomalies: 4 anomaly alerts (4 high)")


def test_no_ledger_is_a_clear_error_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    for argv in ((), ("ack", "0" * 32, "--reason", "x", "--by", "bob")):
        code, _, err = cli(missing, *argv)
        assert code == 2 and "no ledger at" in err and "Traceback" not in err
    assert not missing.exists()


def test_access_changes_audit_mentions_alerts_in_every_format(ledger: Path) -> None:
    assert cli(ledger, "--since", SINCE, "--record")[0] == 0
    policy = str(ROOT / "examples" / "policies" / "access-changes.yml")
    sink = f"sqlite:///{ledger}"
    code, out, err = run_main(
        "audit", "--policy", policy, "--since", SINCE, "--sink", sink, "--format", "json"
    )
    assert code in (0, 1), err
    notes = json.loads(out)["notes"]
    assert any("(high, privilege-escalation) on deployment 1909 of acme/web" in n for n in notes)
    assert len([n for n in notes if n.startswith("anomaly alert")]) == 9
