"""``protection-drift``: branch or environment protection that was weakened or removed.

Weaker means: protection deleted or disabled, or a setting changed the way the platform's
:class:`~pipeledger.access_terms.AccessTerms` rank as weaker — the terms its adapter declares
and its collector uses too. A setting the terms do not know is read by its name: a protective
switch turned off, a count lowered or a list shortened, or a permissive setting (``allow_*``,
``bypass*``) turned on or lengthened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeledger.access_terms import AccessTerms
from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.globs import GlobSet
from pipeledger.policy.model import RuleSpec, Violation
from pipeledger.policy.rules.base import EvaluationEnv, PeopleSet, Rule, links_of, who
from pipeledger.registry import load_access_terms

_REMOVALS = frozenset({"deleted", "removed", "disabled", "destroyed"})


class ProtectionDriftRule(Rule):
    type_name = "protection-drift"
    default_remedy = "Restore the protection, and find out who weakened it and why."
    default_kinds = (EventKind.PROTECTION_CHANGE,)

    def __init__(self, spec: RuleSpec) -> None:
        super().__init__(spec)
        self.targets = GlobSet(spec.params.get("targets"))
        self.allowed = PeopleSet(spec.params.get("allowed"))

    def check_event(self, event: AuditEvent, env: EvaluationEnv) -> Iterable[Violation]:
        target = event.target or {}
        name = target.get("name") or target.get("branch") or event.scope.environment
        if not self.targets.matches(str(name) if name else None):
            return ()
        weakenings = weakened(event)
        if not weakenings:
            return ()
        if self.allowed.allows(event.actor, env):
            return ()
        kind = target.get("type", "protection")
        return [
            Violation(
                message=f"{who(event.actor)} weakened the {kind} protection of"
                f" {name or 'a target'}: {'; '.join(weakenings)}.",
                evidence=[event.id],
                links=links_of(event),
            )
        ]


def weakened(event: AuditEvent) -> list[str]:
    if event.action in _REMOVALS:
        return [f"protection {event.action}"]
    change = event.change or {}
    before, after = change.get("from"), change.get("to")
    setting = (event.target or {}).get("setting")
    if setting and not isinstance(before, Mapping) and not isinstance(after, Mapping):
        # A snapshot diff records one setting per event: compare it as a one-key mapping.
        before, after = {setting: before}, {setting: after}
    reasons = _compared(before, after, load_access_terms(event.platform))
    if not reasons and event.attributes.get("strength") == "weaker":
        # The collector knew the setting's direction even where the generic rules cannot.
        reasons = [f"{setting or 'protection'} weakened"]
    return reasons


def _compared(before: Any, after: Any, terms: AccessTerms) -> list[str]:
    if not isinstance(before, Mapping):
        return []
    if not isinstance(after, Mapping):
        return ["protection removed"] if after is None and before else []
    return [
        reason
        for key in sorted(set(before) | set(after), key=str)
        if (reason := _setting_weakened(str(key), before.get(key), after.get(key), terms))
    ]


def _setting_weakened(key: str, old: Any, new: Any, terms: AccessTerms) -> str | None:
    nested = isinstance(old, Mapping) or isinstance(new, Mapping)
    ranked = not nested or terms.ranks_as_a_whole(key)
    known = terms.known_setting_change(key, old, new) if ranked else None
    if known is not None:
        return _describe(key, old, new, terms) if known == "weakened" else None
    if nested:
        inner = weakened_nested(old, new, terms)
        return f"{key}: {', '.join(inner)}" if inner else None
    return _read_by_name(key, old, new)


def _describe(key: str, old: Any, new: Any, terms: AccessTerms) -> str:
    if isinstance(old, bool) or isinstance(new, bool):
        return f"{key} {'on' if new else 'off'}"
    if isinstance(old, list | Mapping) or isinstance(new, list | Mapping):
        if new is None and terms.open_when_absent(key):
            return f"{key} removed (anyone may)"
        return f"{key} {len(old or [])} -> {len(new or [])} entries"
    return f"{key} {old} -> {new}"


def _read_by_name(key: str, old: Any, new: Any) -> str | None:
    permissive = key.startswith(("allow_", "bypass")) or "bypass" in key
    if isinstance(old, bool) or isinstance(new, bool):
        turned_off = bool(old) and not new
        turned_on = not old and bool(new)
        if turned_on if permissive else turned_off:
            return f"{key} {'on' if permissive else 'off'}"
        return None
    if isinstance(old, int | float) and (new is None or isinstance(new, int | float)):
        lower = (new or 0) < old
        higher = (new or 0) > old
        return f"{key} {old} -> {new}" if (higher if permissive else lower) else None
    if isinstance(old, list) or isinstance(new, list):
        lost = len(old or []) > len(new or [])
        gained = len(new or []) > len(old or [])
        if gained if permissive else lost:
            return f"{key} {len(old or [])} -> {len(new or [])} entries"
    return None


def weakened_nested(old: Any, new: Any, terms: AccessTerms) -> list[str]:
    old_map = old if isinstance(old, Mapping) else {}
    new_map = new if isinstance(new, Mapping) else {}
    if old_map and not new_map:
        return ["removed"]
    return [
        reason
        for key in sorted(set(old_map) | set(new_map), key=str)
        if (reason := _setting_weakened(str(key), old_map.get(key), new_map.get(key), terms))
    ]
