"""``permission-change``: grants of powerful roles by anyone not allowed to grant them, or by
nobody anyone can name. Powerful: the rule's ``roles``, else what the platform's access terms
rank as powerful (maintain or maintainer and above on GitHub and GitLab)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, PeopleSet, Rule, links_of, who
from pipeledger.registry import load_access_terms

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
        chosen = spec.params.get("roles")
        self.roles = frozenset(r.lower() for r in chosen) if chosen else None
        self.allowed = PeopleSet(spec.params.get("allowed"))

    def check_event(self, event: AuditEvent, env: EvaluationEnv) -> Iterable[Violation]:
        if event.action in _REMOVALS or event.change is None:
            return ()
        granted = role_name(event.change.get("to"))
        before = role_name(event.change.get("from"))
        if granted == before or not self._powerful(event.platform, granted):
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

    def _powerful(self, platform: str, role: str | None) -> bool:
        if self.roles is not None:
            return role in self.roles
        return load_access_terms(platform).is_powerful(role)


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
