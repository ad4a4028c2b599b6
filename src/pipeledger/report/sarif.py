"""SARIF 2.1.0, as GitHub code scanning's ``upload-sarif`` accepts it: one run, a rule per
policy rule, each result located at its rule in the policy file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeledger.policy.model import Finding, RuleSpec, Severity
from pipeledger.report._json_chunks import LIST_PLACE, dumps_in_chunks
from pipeledger.report._paths import repo_relative
from pipeledger.report.model import TOOL_NAME, TOOL_URI, TOOL_VERSION, Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "pipeledgerFinding/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def render(report: Report) -> str:
    return "".join(render_chunks(report))


def render_chunks(report: Report) -> Iterator[str]:
    """The log in pieces: the results are rendered as they are read."""
    index = {spec.id: position for position, spec in enumerate(report.policy.rules)}
    uri = repo_relative(report.policy.path)
    results = (_result(f, index[f.rule_id], uri) for f in report.findings)
    return dumps_in_chunks(_frame(report), results)


def _frame(report: Report) -> dict[str, Any]:
    specs = list(report.policy.rules)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": TOOL_VERSION,
                "semanticVersion": TOOL_VERSION,
                "informationUri": TOOL_URI,
                "rules": [_rule(spec) for spec in specs],
            }
        },
        "automationDetails": {"id": f"pipeledger/{report.command}/"},
        "invocations": [_invocation(report)],
        "results": LIST_PLACE,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(spec: RuleSpec) -> dict[str, Any]:
    summary = spec.description or f"{spec.type} rule {spec.id}"
    return {
        "id": spec.id,
        "name": "".join(part.capitalize() for part in spec.id.replace(".", "-").split("-")),
        "shortDescription": {"text": summary.split(". ")[0][:200]},
        "fullDescription": {"text": summary},
        "helpUri": spec.docs_url,
        "help": {"text": spec.remedy or f"See {spec.docs_url}."},
        "defaultConfiguration": {"level": LEVELS[spec.severity]},
        "properties": {"tags": ["pipeledger", spec.type]},
    }


def _result(finding: Finding, rule_index: int, uri: str) -> dict[str, Any]:
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.message} Fix: {finding.remedy}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": max(finding.rule_line, 1)},
                },
                "message": {"text": finding.subject.describe()},
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "subject": finding.subject.to_dict(),
            "evidence": list(finding.evidence),
            "links": list(finding.links),
            "ruleType": finding.rule_type,
        },
    }


def _invocation(report: Report) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": report.error is None}
    if report.error:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": report.error}}
        ]
    return invocation
