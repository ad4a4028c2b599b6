"""GitLab Code Quality JSON: an array of issues, each at its rule in the policy file."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pipeledger.policy.model import Finding, Severity
from pipeledger.report.model import Report
from pipeledger.report.paths import repo_relative

SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTICE: "info"}


def fingerprint(finding: Finding) -> str:
    """md5 of rule id and subject: stable, so GitLab can tell new issues from fixed ones."""
    material = f"{finding.rule_id}\x1f{finding.subject.kind}\x1f{finding.subject.key}"
    return hashlib.md5(material.encode("utf-8"), usedforsecurity=False).hexdigest()


def issues(report: Report) -> list[dict[str, Any]]:
    path = repo_relative(report.policy.path)
    return [
        {
            "description": f"{f.message} Fix: {f.remedy}",
            "check_name": f.rule_id,
            "fingerprint": fingerprint(f),
            "severity": SEVERITIES[f.severity],
            "location": {"path": path, "lines": {"begin": max(f.rule_line, 1)}},
        }
        for f in report.findings
    ]


def render(report: Report) -> str:
    return json.dumps(issues(report), indent=2) + "\n"
