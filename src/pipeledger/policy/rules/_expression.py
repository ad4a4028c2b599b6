"""``expression``: a custom condition in JMESPath over a deployment or an event.

JMESPath because it is small, pure Python, maintained, already installed with boto3, and a
query language people know from the AWS and Azure CLIs; its comparisons and ``&&``/``||``
cover policy conditions, and it cannot loop, call out or change anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult

from pipeledger.events import AuditEvent, format_time
from pipeledger.policy._expression_limits import ConditionProblem, compile_condition
from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, Rule, RuleProblem, links_of


class ExpressionRule(Rule):
    type_name = "expression"
    default_remedy = "Change what the condition describes, or the condition itself."

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.condition = str(spec.params["condition"])
        self.message = spec.params.get("message")
        try:
            self.compiled: ParsedResult = compile_condition(self.condition)
        except ConditionProblem as problem:
            raise RuleProblem("/condition", problem.message, problem.remedy) from None

    def check_deployment(self, ctx: DeploymentContext, env: EvaluationEnv) -> Iterable[Violation]:
        return self._judge(deployment_document(ctx), ctx.evidence_ids(), ctx.deployment, ctx.run)

    def check_event(self, event: AuditEvent, env: EvaluationEnv) -> Iterable[Violation]:
        return self._judge(event.to_dict(), [event.id], event, None)

    def _judge(
        self, document: dict[str, Any], evidence: list[str], *events: AuditEvent | None
    ) -> list[Violation]:
        try:
            result = self.compiled.search(document)
        except jmespath.exceptions.JMESPathError as error:
            message = f"The condition {self.condition!r} could not be evaluated: {error}."
        else:
            if truthy(result):
                return []
            message = self.message or f"The condition {self.condition!r} is false."
        return [Violation(message=message, evidence=evidence, links=links_of(*events))]


def truthy(value: Any) -> bool:
    """JMESPath's notion: false, null and empty strings, lists and objects are false."""
    return value is not None and value is not False and value not in ("", [], {})


def deployment_document(ctx: DeploymentContext) -> dict[str, Any]:
    """What a condition sees for a deployment (documented in the README)."""
    return {
        "deployment": ctx.deployment.to_dict(),
        "run": ctx.run.to_dict() if ctx.run else None,
        "approvals": [e.to_dict() for e in ctx.approvals],
        "reviews": [e.to_dict() for e in ctx.reviews],
        "environment": ctx.environment,
        "repository": ctx.repository,
        "ref": ctx.ref,
        "sha": ctx.sha,
        "deployer": ctx.deployer.to_dict(),
        "when": format_time(ctx.when),
        "pending": ctx.pending,
    }


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
