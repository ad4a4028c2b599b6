"""``audit --record``: the findings of a scheduled audit reach every sink as verdict events
(OCSF Compliance Findings for a SIEM), once however often the same history is audited."""

from __future__ import annotations

import json
from pathlib import Path

from pipeledger.events import EventKind
from pipeledger.formats.ocsf import to_ocsf
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.e2e.github_expect import run_cli
from tests.paths import ROOT

BASELINE = ROOT / "examples" / "policies" / "baseline.yml"


def _audit(db: Path, copy: Path) -> tuple[int, str]:
    code, _, err = run_cli(
        [
            "audit",
            "--policy",
            str(BASELINE),
            "--record",
            "--sink",
            f"sqlite:///{db}",
            "--sink",
            f"jsonl:///{copy}",
            "--format",
            "json",
        ],
        {},
    )
    return code, err


def test_recorded_audit_verdicts_reach_the_sinks_once(tmp_path: Path) -> None:
    db, copy = tmp_path / "l.db", tmp_path / "copy.jsonl"
    assert run_cli(["demo", "--ledger", str(db)], {})[0] == 0
    code, err = _audit(db, copy)
    assert code == 1
    assert "recorded" in err
    ledger = SqliteSink(db)
    decisions = list(ledger.records(EventFilter(kinds=(EventKind.GATE_DECISION,))))
    ledger.close()
    assert decisions, "the demo history has violations; each subject gets a verdict"
    first = decisions[0]
    assert first.event.attributes["command"] == "audit"
    assert first.event.attributes["findings"][0]["rule_id"].startswith("prod-")
    lines = [json.loads(line) for line in copy.read_text().splitlines()]
    shipped = [line for line in lines if line.get("event", {}).get("kind") == "gate.decision"]
    assert len(shipped) == len(decisions)
    ocsf = to_ocsf(first)
    assert ocsf["class_uid"] == 2003  # Compliance Finding
    assert _audit(db, copy)[0] == 1
    ledger = SqliteSink(db)
    again = list(ledger.records(EventFilter(kinds=(EventKind.GATE_DECISION,))))
    ledger.close()
    assert len(again) == len(decisions)  # same history, same verdicts: nothing new
