"""``permission-change``: grants of powerful roles (admin, owner, maintain) by anyone not
allowed to grant them, or by nobody anyone can name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, PeopleSet, Rule, links_of, who

DEFAULT_ROLES = ("admin", "owner", "maintain", "maintainer")
_REMOVALS = frozenset({"revoked", "removed", "deleted"})


class PermissionChangeRule(Rule):
    type_name = "permission-change"
    default_remedy = (
        "Confirm the grant was approved (change ticket); if not, revoke it. Let only the"
        " listed administrators grant these roles."
    )
    default_kinds = (EventKind.PERMISSION_CHANGE,)

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.roles = frozenset(r.lower() for r in spec.params.get("roles") or DEFAULT_ROLES)
        self.allowed = PeopleSet(spec.params.get("allowed"))

    def check_event(self, event: AuditEvent, env: EvaluationEnv) -> Iterable[Violation]:
        if event.action in _REMOVALS or event.change is None:
            return ()
        granted = role_name(event.change.get("to"))
        before = role_name(event.change.get("from"))
        if granted not in self.roles or granted == before:
            return ()
        if self.allowed.allows(event.actor, env):
            return ()
        return [
            Violation(
                message=f"{who(event.actor)} gave {_target(event.target)} the {granted} role"
                f" (was {before or 'none'}) in {_where(event)}.",
                evidence=[event.id],
                links=links_of(event),
            )
        ]


def role_name(value: Any) -> str | None:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, Mapping):
        for key in ("role", "permission", "access_level", "role_name"):
            if isinstance(value.get(key), str):
                return str(value[key]).lower()
    return None


def _target(target: Mapping[str, Any] | None) -> str:
    target = target or {}
    name = target.get("login") or target.get("slug") or target.get("name") or "someone"
    kind = target.get("type")
    return f"{kind} {name}" if kind else str(name)


def _where(event: AuditEvent) -> str:
    return event.scope.full_name or event.scope.owner
