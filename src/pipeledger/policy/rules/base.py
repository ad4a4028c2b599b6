"""What every rule type shares: its selector, how it reports a problem in its own
parameters, and the people lists several types use."""

from __future__ import annotations

from abc import ABC
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind
from pipeledger.policy.deployment_context import DeploymentContext, repository_of
from pipeledger.policy.globs import GlobSet
from pipeledger.policy.model import RuleSpec, Violation


class RuleProblem(Exception):
    """A rule's parameters make no sense; ``pointer`` is relative to the rule."""

    def __init__(self, pointer: str, message: str, remedy: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message
        self.remedy = remedy


@dataclass(frozen=True)
class EvaluationEnv:
    """What rules may consult besides the subject: team membership."""

    team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def in_team(self, login: str, team: str) -> bool:
        return login.lower() in self.team_members.get(team, frozenset())


class PeopleSet:
    """``users`` (login globs, case-insensitive) and ``teams``."""

    def __init__(self, spec: Mapping[str, Any] | None) -> None:
        spec = spec or {}
        self.users = GlobSet(spec.get("users"), ignore_case=True)
        self.teams: tuple[str, ...] = tuple(spec.get("teams") or ())
        self.types: frozenset[str] = frozenset(spec.get("types") or ())

    @property
    def empty(self) -> bool:
        return not self.users and not self.teams and not self.types

    def names(self, login: str | None, actor_type: str | None, env: EvaluationEnv) -> bool:
        """True when the actor is listed by login, team or type."""
        if actor_type is not None and actor_type in self.types:
            return True
        if login is None:
            return False
        if self.users and self.users.matches(login):
            return True
        return any(env.in_team(login, team) for team in self.teams)

    def allows(self, actor: Actor, env: EvaluationEnv) -> bool:
        """True when a change by ``actor`` is allowed; one nobody can name never is."""
        return actor.type is not ActorType.UNKNOWN and self.names(
            actor.login, actor.type.value, env
        )


def who(actor: Actor) -> str:
    """How a finding names the person who made a change."""
    return actor.login if actor.type is not ActorType.UNKNOWN and actor.login else "someone unknown"


class Rule(ABC):
    """A rule type. Deployment rules override ``check_deployment``; event rules
    ``check_event`` and set ``default_kinds``."""

    type_name: ClassVar[str]
    default_remedy: ClassVar[str]
    default_kinds: ClassVar[tuple[EventKind, ...]] = (EventKind.DEPLOYMENT,)

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self.environments = GlobSet(spec.match.get("environments"), ignore_case=True)
        self.repositories = GlobSet(spec.match.get("repositories"))
        kinds = spec.match.get("events")
        self.kinds = tuple(EventKind(k) for k in kinds) if kinds else self.default_kinds

    @property
    def judges_deployments(self) -> bool:
        return EventKind.DEPLOYMENT in self.kinds

    @property
    def event_kinds(self) -> tuple[EventKind, ...]:
        return tuple(k for k in self.kinds if k is not EventKind.DEPLOYMENT)

    def selects_deployment(self, ctx: DeploymentContext) -> bool:
        return self.environments.matches(ctx.environment) and self.repositories.matches(
            ctx.repository
        )

    def selects_event(self, event: AuditEvent) -> bool:
        return self.environments.matches(event.scope.environment) and self.repositories.matches(
            repository_of(event)
        )

    def check_deployment(self, ctx: DeploymentContext, env: EvaluationEnv) -> Iterable[Violation]:
        return ()

    def check_event(self, event: AuditEvent, env: EvaluationEnv) -> Iterable[Violation]:
        return ()


def links_of(*events: AuditEvent | None) -> list[str]:
    return [link for e in events if e is not None for link in e.links.values()]
