"""Every format an audit renders is byte for byte what it was before findings were made
compact (issue 13: a finding for each of 100,000s of deployments has to be small): the
digests below were taken from the code before that work (commit 4772180), on the generated
history of ``test_audit_stream`` with the baseline policy and a fixed clock.

A digest that changes means an output changed. If that is intended, print the new digests
with ``outputs`` and say in the commit why the output is not what it was."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeledger.events import AuditEvent
from pipeledger.policy.audit import audit_ledger
from pipeledger.policy.loader import load_policy
from pipeledger.policy.model import FailOn
from pipeledger.policy.record import audit_decisions
from pipeledger.report import github, gitlab, json_format, junit, sarif, text
from pipeledger.report.model import Report
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.test_audit_stream import POLICY_EXTRA, build

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
BASELINE = Path(__file__).resolve().parents[3] / "examples" / "policies" / "baseline.yml"

EXPECTED = {
    "findings": "761 findings",
    "text": "5da885d305198bd34b36676cccee97cee64e09663bb6f8b84092ead8018cf49a",
    "text in pieces": "5da885d305198bd34b36676cccee97cee64e09663bb6f8b84092ead8018cf49a",
    "json": "7787e1d4157603e782a381f1fc1255aaf8b88b46a9b0d61c1b6dc1a7c0de1ede",
    "sarif": "15324863692ecfd29e7416f8bf9eaeba28020f6cd1ec331e5c4cadcf8d2dd99f",
    "junit": "7f55ecf6f71ca35058c31f5993ffa80815be1142512997e9e83f44255f5e002f",
    "github": "46d2d31bab4ae4a7191d1adf9ece6e7c2bd18d850616c05f59ab8c91fac3d8b9",
    "github summary": "a33f49b741e58aa962a6dba1beeda11094dc92eb03bdf110da460bc953b0e15a",
    "gitlab": "2d21979ed7bb7c3185b2e64e5c1cd9dd649630d98c1876b54dd7cb22fb6a6162",
    "recorded": "bf2f2fa5ab82c0b5d92ae146ea4b66aa489fcb41053ea91b9b15a9e138639d09",
}


def outputs(folder: Path) -> dict[str, str]:
    """Every rendered format (and the verdict events ``--record`` writes) of an audit of
    generated history; ``folder`` is the working directory, as the policy's path shows."""
    rules, rest = BASELINE.read_text(encoding="utf-8").split("\n# What no rule foresees", 1)
    (folder / "policy.yml").write_text(f"{rules}{POLICY_EXTRA}\n# {rest}", encoding="utf-8")
    loaded = load_policy("policy.yml")
    ledger = SqliteSink(folder / "l.db")
    try:
        ledger.append(build(9, deployments=300), {})
        evidence: dict[str, AuditEvent] = {}
        evaluation = audit_ledger(loaded, ledger, keep_subjects=True, evidence=evidence)
    finally:
        ledger.close()
    report = Report.of("audit", loaded.policy, evaluation, FailOn.ERROR, NOW)
    decisions = audit_decisions(evaluation.findings, evidence, loaded, NOW)
    return {
        "findings": f"{len(evaluation.findings)} findings",
        "text": text.render(report),
        "text in pieces": "".join(text.render_chunks(report, per_chunk=7)),
        "json": json_format.render(report),
        "sarif": sarif.render(report),
        "junit": junit.render(report),
        "github": github.render(report),
        "github summary": github.summary_markdown(report),
        "gitlab": gitlab.render(report),
        "recorded": json.dumps([event.to_dict() for event in decisions], sort_keys=True),
    }


def digests(folder: Path) -> dict[str, str]:
    return {
        name: output if name == "findings" else hashlib.sha256(output.encode("utf-8")).hexdigest()
        for name, output in outputs(folder).items()
    }


def test_every_output_is_what_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert digests(tmp_path) == EXPECTED
