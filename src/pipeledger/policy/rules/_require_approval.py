"""``require-approval``: a deployment needs N approvals from people who neither triggered
the run nor wrote the change; a rejection is never an approval."""

from __future__ import annotations

from collections.abc import Iterable

from pipeledger.events import AuditEvent
from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, PeopleSet, Rule, RuleProblem, links_of

APPROVED = "approved"
REJECTED = "rejected"


class RequireApprovalRule(Rule):
    type_name = "require-approval"
    default_remedy = (
        "Have someone who did not trigger the run and did not write the change approve the"
        " deployment (environment reviewers), then re-run the job."
    )

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.minimum = int(spec.params.get("min_approvals", 1))
        self.approvers = PeopleSet(spec.params.get("approvers"))
        named = self.approvers.users.patterns
        exact = [u for u in named if not any(c in u for c in "*?[")]
        if named and not self.approvers.teams and len(exact) == len(named) < self.minimum:
            raise RuleProblem(
                "/min_approvals",
                f"min_approvals is {self.minimum} but only {len(named)} approvers are listed,"
                " so no deployment could ever pass",
                f"Lower min_approvals to at most {len(named)} or list more approvers.",
            )

    def check_deployment(self, ctx: DeploymentContext, env: EvaluationEnv) -> Iterable[Violation]:
        latest = latest_decisions(ctx.approvals)
        excluded = _excluded(ctx)
        counted: list[str] = []
        notes: list[str] = []
        for login, event in latest.items():
            reason = self._why_not(login, event, excluded, env)
            if reason is None:
                counted.append(event.actor.login or login)
            else:
                notes.append(f"{event.actor.login} {reason}")
        rejected = [e.actor.login or "?" for e in latest.values() if e.action == REJECTED]
        if len(counted) >= self.minimum and not rejected:
            return ()
        return [
            Violation(
                message=self._message(ctx, counted, notes, rejected),
                evidence=[*ctx.evidence_ids(), *(e.id for e in ctx.approvals)],
                links=links_of(ctx.deployment, ctx.run, *ctx.approvals),
            )
        ]

    def _why_not(
        self, login: str, event: AuditEvent, excluded: dict[str, str], env: EvaluationEnv
    ) -> str | None:
        if event.action != APPROVED:
            return f"{event.action} (not an approval)"
        if login in excluded:
            return f"approved but {excluded[login]}, so it does not count"
        if not self.approvers.empty and not self.approvers.names(
            event.actor.login, event.actor.type.value, env
        ):
            return "approved but is not an allowed approver"
        return None

    def _message(
        self, ctx: DeploymentContext, counted: list[str], notes: list[str], rejected: list[str]
    ) -> str:
        target = ctx.environment or "this environment"
        text = (
            f"The deployment to {target} needs {self.minimum} independent approval(s) and has"
            f" {len(counted)}"
        )
        text += f" ({', '.join(counted)})." if counted else "."
        if rejected:
            text += f" It was rejected by {', '.join(rejected)}."
        if notes:
            text += " " + "; ".join(notes) + "."
        if not ctx.approvals:
            text += " No approval was recorded for this run."
        return text


def latest_decisions(approvals: Iterable[AuditEvent]) -> dict[str, AuditEvent]:
    """Each reviewer's last word: an approval followed by a rejection is a rejection."""
    latest: dict[str, AuditEvent] = {}
    for event in sorted(approvals, key=lambda e: e.occurred_at):
        if event.actor.login:
            latest[event.actor.login.lower()] = event
    return latest


def _excluded(ctx: DeploymentContext) -> dict[str, str]:
    excluded: dict[str, str] = {}
    for author in ctx.change_authors:
        excluded[author] = "wrote the deployed change"
    if ctx.initial_actor:
        excluded[ctx.initial_actor.lower()] = "started the run"
    trigger = ctx.triggering_actor
    if trigger is not None and trigger.login:
        excluded[trigger.login.lower()] = "triggered this run attempt"
    return excluded
