"""The evidence pack's data on pack_history(): every expected value is worked out by hand
from the history (see history.py) and the documented rules."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from markupsafe import escape

from pipeledger.evidence_pack.controls import load_controls
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.ledger.signing import SIGNING_KEY_ENV, generate_key_pair, signer_from_environ
from pipeledger.period import parse_period
from pipeledger.policy.loader import load_policy
from pipeledger.sinks.contract import SinkSettings
from pipeledger_sqlite.sink import SqliteSink
from tests.conftest import ROOT
from tests.core.evidence_pack.in_memory import build_pack
from tests.core.report.history import PACK_POLICY, pack_history, write_ledger

GENERATED = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
SEED = 7
SAMPLE = 3


def _schema(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("pack")
    url = write_ledger(folder / "ledger.db", pack_history())
    (folder / "policy.yml").write_text(PACK_POLICY, encoding="utf-8")
    private, _public, _key_id = generate_key_pair()
    options = PackOptions(
        period=parse_period("2026-03"),
        generated_at=GENERATED,
        seed=SEED,
        sample_size=SAMPLE,
        policy=load_policy(str(folder / "policy.yml")),
    )
    ledger = SqliteSink.open(url, SinkSettings(environ={}))
    try:
        signer = signer_from_environ({SIGNING_KEY_ENV: private.decode()})
        return build_pack(ledger, options, load_controls(None), signer)
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def data(files: dict[str, bytes]) -> dict[str, Any]:
    return json.loads(files["data.json"])


def test_data_and_manifest_follow_their_schemas(files: dict[str, bytes]) -> None:
    jsonschema.validate(json.loads(files["data.json"]), _schema("evidence-pack.v1.schema.json"))
    manifest = json.loads(files["manifest.json"])
    jsonschema.validate(manifest, _schema("evidence-manifest.v1.schema.json"))
    assert sorted(f["path"] for f in manifest["files"]) == sorted(set(files) - {"manifest.json"})
    assert manifest["sampling"] == {"seed": SEED, "size": SAMPLE}
    assert manifest["period"]["label"] == "2026-03"


def test_summary(data: dict[str, Any]) -> None:
    summary = data["summary"]
    # March: api 1-10 and 12 and web 21, 22 to production, api 11 to staging.
    assert summary["deployments"] == 14
    assert summary["by_environment"] == {"production": 13, "staging": 1}
    # 5 has no approval; 6 was approved by dave, who triggered it.
    assert summary["approval_coverage"] == {
        "deployments": 13,
        "approved": 12,
        "approved_by_someone_else": 11,
        "rate": round(11 / 13, 4),
    }
    assert summary["findings"] == {"error": 2}
    assert (summary["permission_changes"], summary["protection_changes"]) == (1, 2)
    # Two alerts raised; the acknowledgement of one is not a third.
    assert summary["anomalies"] == 2
    weekly = {row["week"]: row for row in summary["weekly"]}
    # 1 March 2026 is a Sunday: W09 holds it, W14 holds 30 and 31 March.
    assert list(weekly) == ["2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]
    assert [weekly[w]["deployments"]["production"] for w in weekly] == [0, 6, 3, 2, 1, 1]
    assert weekly["2026-W10"]["deployments"]["staging"] == 1
    assert weekly["2026-W10"]["findings"] == {"error": 2, "warning": 0, "notice": 0}
    assert weekly["2026-W09"]["permission_changes"] == 1
    assert weekly["2026-W11"]["protection_changes"] == 1  # the bypass of 10 March
    assert weekly["2026-W12"]["protection_changes"] == 1
    assert [weekly[w]["anomalies"] for w in weekly] == [0, 1, 0, 0, 1, 0]


def test_findings_name_the_unapproved_and_self_approved_deploys(data: dict[str, Any]) -> None:
    subjects = [(f["rule_id"], f["subject"]["key"]) for f in data["findings"]]
    assert sorted(subjects) == [("prod-approval", "5"), ("prod-approval", "6")]


def test_sample_takes_every_flagged_deploy_and_a_seeded_random_rest(data: dict[str, Any]) -> None:
    flagged = {
        "acme/api#2": ["anomaly alert"],  # the alert names its deployment id
        "acme/api#5": ["policy violation"],
        "acme/api#6": ["policy violation"],
        "acme/api#7": ["protection bypass"],  # bypass 30 min before it
        "acme/api#12": ["outside usual hours"],  # a Saturday
        "acme/web#21": ["outside usual hours"],  # a Sunday
        "acme/web#22": ["outside usual hours"],  # 23:00
    }
    others = sorted(
        f"acme/api#{n}" for n in (1, 3, 4, 8, 9, 10, 11)
    )  # in March, not flagged, ordered by key as documented
    expected = {
        **flagged,
        **{k: ["random sample"] for k in random.Random(SEED).sample(others, SAMPLE)},
    }
    got = {row["key"]: row["reasons"] for row in data["sample"]["deployments"]}
    assert got == expected
    times = [row["at"] for row in data["sample"]["deployments"]]
    assert times == sorted(times)
    assert data["sample"]["seed"] == SEED


def test_evidence_page_of_the_self_approved_deploy(data: dict[str, Any]) -> None:
    evidence = {e["key"]: e for e in data["evidence"]}["acme/api#6"]
    events = data["events"]
    assert events[evidence["run"]]["actor"]["login"] == "dave"
    assert [events[i]["actor"]["login"] for i in evidence["approvals"]] == ["dave"]
    # dave was made admin on 1 March, 4 days before: within the 30 days looked back.
    changes = [events[i] for i in evidence["access_changes"]]
    assert [(c["kind"], (c["target"] or {}).get("login")) for c in changes] == [
        ("permission.change", "dave")
    ]
    assert "dave approved a deployment they triggered" in evidence["concerns"]
    findings = {f["id"]: f for f in data["findings"]}
    assert [findings[i]["rule_id"] for i in evidence["findings"]] == ["prod-approval"]
    assert evidence["links"]["run html"] == "https://github.com/acme/api/actions/runs/6"


def test_the_evidence_page_shows_what_the_data_holds(
    files: dict[str, bytes], data: dict[str, Any]
) -> None:
    evidence = {e["key"]: e for e in data["evidence"]}["acme/api#6"]
    page = files[evidence["page"]].decode()
    assert "dave approved a deployment they triggered" in page
    assert "write → admin" in page
    assert "prod-approval" in page
    assert 'href="https://github.com/acme/api/deployments/6"' in page


def test_coverage_names_the_gaps_of_a_week_or_more(data: dict[str, Any]) -> None:
    scopes = {s["scope"]: s for s in data["coverage"]}
    # acme/web: events on 14, 15 and 31 March inside the period.
    assert scopes["acme/web"]["gaps"] == [
        {"from": "2026-03-01", "to": "2026-03-13", "days": 13},
        {"from": "2026-03-16", "to": "2026-03-30", "days": 15},
    ]
    # acme/api: nothing between 12 and 20 March, nor between 20 and 28 March.
    assert scopes["acme/api"]["gaps"] == [
        {"from": "2026-03-13", "to": "2026-03-19", "days": 7},
        {"from": "2026-03-21", "to": "2026-03-27", "days": 7},
    ]
    assert scopes["acme/web"]["first_event"] == "2026-02-27T10:00:00Z"


def test_dora_in_the_pack_is_the_metrics_command_s(data: dict[str, Any]) -> None:
    overall = data["dora"]["overall"]
    assert overall["change_failure_rate"]["failed"] == 5
    assert overall["change_failure_rate"]["finished"] == 13
    assert "lead_time" in data["dora"]["definitions"]


def test_csv_files_agree_with_data(files: dict[str, bytes], data: dict[str, Any]) -> None:
    deployments = list(csv.DictReader(io.StringIO(files["deployments.csv"].decode())))
    assert len(deployments) == data["summary"]["deployments"]
    sampled = {row["key"] for row in deployments if row["sampled"] == "yes"}
    assert sampled == {row["key"] for row in data["sample"]["deployments"]}
    findings = list(csv.DictReader(io.StringIO(files["findings.csv"].decode())))
    assert {row["subject"] for row in findings} == {"5", "6"}
    dora = list(csv.DictReader(io.StringIO(files["dora.csv"].decode())))
    assert dora[0]["scope"] == "overall"
    assert dora[0]["failed_deployments"] == "5"


def test_every_sampled_deploy_has_a_page_linked_from_the_index(files: dict[str, bytes]) -> None:
    index = files["index.html"].decode()
    manifest = json.loads(files["manifest.json"])
    pages = [f["path"] for f in manifest["files"] if f["path"].startswith("deployments/")]
    assert len(pages) == 7 + SAMPLE
    for page in pages:
        assert f'href="{page}"' in index
        assert "../index.html" in files[page].decode()


def test_the_same_seed_draws_the_same_sample(tmp_path: Path) -> None:
    url = write_ledger(tmp_path / "ledger.db", pack_history())
    ledger = SqliteSink.open(url, SinkSettings(environ={}))
    try:
        keys = []
        for _ in range(2):
            options = PackOptions(parse_period("2026-03"), GENERATED, seed=99, sample_size=4)
            built = build_pack(ledger, options, load_controls(None), None)
            keys.append([r["key"] for r in json.loads(built["data.json"])["sample"]["deployments"]])
    finally:
        ledger.close()
    assert keys[0] == keys[1]
    # api#12, web#21, web#22 off hours, api#7 bypassed, api#2 named by an anomaly alert
    assert len(keys[0]) == 5 + 4


def test_anomaly_alerts_on_the_page_of_the_deploy_they_name(
    files: dict[str, bytes], data: dict[str, Any]
) -> None:
    events = data["events"]
    assert [events[i]["attributes"]["alert_id"] for i in data["anomalies"]] == [
        "a-deploy-2",
        "a-org",
    ]
    evidence = {e["key"]: e for e in data["evidence"]}["acme/api#2"]
    assert evidence["reasons"] == ["anomaly alert"]
    [alert_id] = evidence["anomalies"]
    ack = events[data["acknowledgements"][alert_id]]
    assert (ack["action"], ack["actor"]["login"]) == ("acknowledged", "erin")
    page = files[evidence["page"]].decode()
    assert "carol deployed api for the first time" in page
    assert "unusual-deployer" in page
    assert "by erin at 2026-03-04T10:00:00Z: carol joined the on-call rota" in page
    index = files["index.html"].decode()
    assert "5 admin grants in an hour" in index
    # No other page cites the alerts: they name only deploy 2.
    others = [e for e in data["evidence"] if e["key"] != "acme/api#2"]
    assert all(e["anomalies"] == [] for e in others)


def test_the_bundled_mapping_names_the_issue_s_controls(
    files: dict[str, bytes], data: dict[str, Any]
) -> None:
    named = {(c["framework"], c["control"]) for c in data["controls"]["entries"]}
    assert ("SOC 2 (Trust Services Criteria 2017, points of focus 2022)", "CC8.1") in named
    assert ("ISO/IEC 27001:2022 Annex A", "A.8.32") in named
    assert ("SOX IT general controls", "Change management") in named
    assert files["controls.yml"] == load_controls(None).text.encode("utf-8")
    manifest = json.loads(files["manifest.json"])
    assert manifest["policy"]["sha256"] == data["policy"]["sha256"]
    assert len(manifest["policy"]["sha256"]) == 64


def test_the_index_writes_every_dora_definition(
    files: dict[str, bytes], data: dict[str, Any]
) -> None:
    index = files["index.html"].decode()
    definitions = data["dora"]["definitions"]
    assert set(definitions) >= {"deployment_frequency", "lead_time", "change_failure_rate",
                                "time_to_restore"}  # fmt: skip
    for text in definitions.values():
        assert str(escape(text)) in index
