"""``actor``: allow and deny lists of users, teams and actor types (bots, apps) for the
matching events; for deployments the deployer is judged."""

from __future__ import annotations

from collections.abc import Iterable

from pipeledger.events import Actor, AuditEvent
from pipeledger.policy.deployment_context import DeploymentContext
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, PeopleSet, Rule, RuleProblem, links_of


class ActorRule(Rule):
    type_name = "actor"
    default_remedy = "Have an allowed person do this; bots and denied accounts may not."

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.allow = PeopleSet(spec.params.get("allow"))
        self.deny = PeopleSet(spec.params.get("deny"))
        if self.allow.empty and self.deny.empty:
            raise RuleProblem(
                "",
                "an actor rule needs an allow or a deny list, or it checks nothing",
                "Add deny: {types: [bot]} or allow: {teams: [release-managers]}.",
            )

    def check_deployment(self, ctx: DeploymentContext, env: EvaluationEnv) -> Iterable[Violation]:
        why = self._refusal(ctx.deployer, env)
        if why is None:
            return ()
        role = "triggered" if ctx.triggering_actor is not None else "created"
        return [
            Violation(
                message=f"{_who(ctx.deployer)} {role} the deployment to {ctx.environment}"
                f" and {why}.",
                evidence=ctx.evidence_ids(),
                links=links_of(ctx.deployment, ctx.run),
            )
        ]

    def check_event(self, event: AuditEvent, env: EvaluationEnv) -> Iterable[Violation]:
        why = self._refusal(event.actor, env)
        if why is None:
            return ()
        return [
            Violation(
                message=f"{_who(event.actor)} did {event.kind.value} {event.action} and {why}.",
                evidence=[event.id],
                links=links_of(event),
            )
        ]

    def _refusal(self, actor: Actor, env: EvaluationEnv) -> str | None:
        kind = actor.type.value
        if self.deny.names(actor.login, kind, env):
            return "is on this rule's deny list"
        if not self.allow.empty and not self.allow.names(actor.login, kind, env):
            return "is not on this rule's allow list"
        return None


def _who(actor: Actor) -> str:
    return f"{actor.login or 'an unknown actor'} ({actor.type.value})"
