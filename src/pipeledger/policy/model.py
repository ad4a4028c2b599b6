"""The policy engine's values: severities, a loaded policy, subjects and findings.

A finding is data (rule id, severity, message, evidence, remedy); rules never raise for a
violation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pipeledger.docs_links import rule_docs_url


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.NOTICE: 1}


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NEVER = "never"

    def fails(self, severity: Severity) -> bool:
        if self is FailOn.NEVER:
            return False
        return severity.rank >= Severity(self.value).rank


@dataclass(frozen=True)
class RuleSpec:
    """What every rule has, whatever its type; ``params`` holds the type's own keys."""

    id: str
    type: str
    severity: Severity
    line: int
    description: str | None = None
    remedy: str | None = None
    docs: str | None = None
    match: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def docs_url(self) -> str:
        return self.docs or rule_docs_url(self.type)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a finding is about: a deployment, or a single recorded event."""

    kind: str
    key: str
    repository: str | None = None
    environment: str | None = None
    ref: str | None = None
    sha: str | None = None
    run_id: str | None = None
    url: str | None = None

    def describe(self) -> str:
        where = f" to {self.environment}" if self.environment else ""
        repo = f" in {self.repository}" if self.repository else ""
        ref = f" from {self.ref}" if self.ref else ""
        run = f" (run {self.run_id})" if self.run_id else ""
        return f"{self.kind} {self.key}{where}{ref}{repo}{run}"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "kind": self.kind,
            "key": self.key,
            "repository": self.repository,
            "environment": self.environment,
            "ref": self.ref,
            "sha": self.sha,
            "run_id": self.run_id,
            "url": self.url,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True)
class Violation:
    """What a rule reports; the engine adds the rule's identity and the subject."""

    message: str
    evidence: Sequence[str] = ()
    links: Sequence[str] = ()
    remedy: str | None = None


# Slots: an audit of a large ledger can hold a finding for each of 100,000s of deployments.
@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    rule_type: str
    severity: Severity
    message: str
    subject: Subject
    evidence: tuple[str, ...]
    links: tuple[str, ...]
    remedy: str
    docs_url: str
    rule_line: int

    @property
    def fingerprint(self) -> str:
        """Stable across runs: the same rule on the same subject gives the same id."""
        material = f"{self.rule_id}\x1f{self.subject.kind}\x1f{self.subject.key}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.fingerprint,
            "rule_id": self.rule_id,
            "rule_type": self.rule_type,
            "severity": self.severity.value,
            "message": self.message,
            "subject": self.subject.to_dict(),
            "evidence": list(self.evidence),
            "links": list(self.links),
            "remedy": self.remedy,
            "docs": self.docs_url,
            "rule_line": self.rule_line,
        }


@dataclass(frozen=True)
class Policy:
    path: str
    sha256: str
    rules: Sequence[RuleSpec]
    teams: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def team_names(self) -> list[str]:
        """Every team a rule names, in first-use order."""
        names: list[str] = []
        for rule in self.rules:
            for team in _teams_in(rule.params):
                if team not in names:
                    names.append(team)
        return names


def _teams_in(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        found: list[str] = []
        for key, item in value.items():
            if key == "teams" and isinstance(item, list):
                found.extend(str(team) for team in item)
            else:
                found.extend(_teams_in(item))
        return found
    if isinstance(value, list):
        return [team for item in value for team in _teams_in(item)]
    return []
