"""GitLab Code Quality JSON: an array of issues, each at its rule in the policy file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from pipeledger.policy.model import Finding, Severity
from pipeledger.report._json_chunks import LIST_PLACE, dumps_in_chunks
from pipeledger.report._paths import repo_relative
from pipeledger.report.model import Report

SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTICE: "info"}


def fingerprint(finding: Finding) -> str:
    """md5 of rule id and subject: stable, so GitLab can tell new issues from fixed ones."""
    material = f"{finding.rule_id}\x1f{finding.subject.kind}\x1f{finding.subject.key}"
    return hashlib.md5(material.encode("utf-8"), usedforsecurity=False).hexdigest()


def render(report: Report) -> str:
    return "".join(render_chunks(report))


def render_chunks(report: Report) -> Iterator[str]:
    """The array in pieces: the issues are rendered as they are read."""
    path = repo_relative(report.policy.path)
    return dumps_in_chunks(LIST_PLACE, (_issue(f, path) for f in report.findings))


def _issue(finding: Finding, path: str) -> dict[str, Any]:
    return {
        "description": f"{finding.message} Fix: {finding.remedy}",
        "check_name": finding.rule_id,
        "fingerprint": fingerprint(finding),
        "severity": SEVERITIES[finding.severity],
        "location": {"path": path, "lines": {"begin": max(finding.rule_line, 1)}},
    }
