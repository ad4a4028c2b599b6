"""What every findings format renders: the verdict, the findings and per-rule tallies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipeledger import __version__
from pipeledger.policy.engine import Evaluation, RuleResult
from pipeledger.policy.model import FailOn, Finding, Policy

TOOL_NAME = "pipeledger"
TOOL_URI = "https://pipeledger.dev"
TOOL_VERSION = __version__


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    GITHUB = "github"
    GITLAB = "gitlab"


@dataclass(frozen=True)
class Report:
    command: str
    policy: Policy
    decision: str
    fail_on: FailOn
    evaluation: Evaluation | None
    generated_at: datetime
    environment: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    error: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(
        cls,
        command: str,
        policy: Policy,
        evaluation: Evaluation,
        fail_on: FailOn,
        generated_at: datetime,
        **more: Any,
    ) -> Report:
        """The report of a finished evaluation: its decision is what ``fail_on`` makes of it."""
        decision = "fail" if evaluation.fails(fail_on) else "pass"
        return cls(command, policy, decision, fail_on, evaluation, generated_at, **more)

    @property
    def findings(self) -> list[Finding]:
        return self.evaluation.findings if self.evaluation else []

    @property
    def results(self) -> list[RuleResult]:
        return self.evaluation.results if self.evaluation else []
