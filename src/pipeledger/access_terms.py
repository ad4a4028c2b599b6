"""What a forge's words for access and protection mean: how much each role may do, and which
way a change of each protection setting guards — ``weakened``, ``strengthened`` or ``changed``
when that cannot be told.

The core knows no forge's words. Each adapter plugin declares its own :class:`AccessTerms`
(registered in the ``pipeledger.access_terms`` entry-point group under its platform name) and
the core applies them: to the differences between two snapshots, to the policy's
``protection-drift`` rule and to the anomaly detectors' reading of access changes. A platform
without terms gets :data:`NO_TERMS`: every role ranks the same and the policy reads settings
by their names alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Verdict = str  # "weakened", "strengthened" or "changed"


@dataclass(frozen=True)
class AccessTerms:
    """One forge's vocabulary. Every set names protection settings as its adapter records
    them (``Protection.settings`` keys, ``target.setting`` of ``protection.change`` events)."""

    # Roles from least to most powerful (lower case); a role not named ranks 0.
    role_ranks: Mapping[str, int] = field(default_factory=dict)
    # A larger number guards more, a smaller one less.
    more_is_stronger: frozenset[str] = frozenset()
    # True guards and false does not.
    true_is_stronger: frozenset[str] = frozenset()
    # True opens a door.
    true_is_weaker: frozenset[str] = frozenset()
    # Lists of people or checks that must approve or pass: fewer is weaker. A mapping
    # (approver -> approvals it must give) is weaker when an approver goes or a number drops.
    fewer_is_weaker: frozenset[str] = frozenset()
    # Lists of who or what may get through: more is weaker, and none at all (absent) lets
    # everyone through.
    more_is_weaker: frozenset[str] = frozenset()
    # Settings with one value that guards least ("all branches may deploy").
    open_values: Mapping[str, Any] = field(default_factory=dict)
    # Settings named ``<prefix><rule>`` are rules in force (true or their parameters) or not.
    rule_prefix: str | None = None
    # Settings that list who must approve a deploy: a person joining one is given power.
    approver_settings: frozenset[str] = frozenset()
    # Whether those lists name a person by user id (``user:7``) rather than by login.
    approvers_by_id: bool = False
    # The least rank of a powerful role (one that can change what guards deploys); None: no
    # role is powerful by rank.
    powerful_rank: int | None = None

    def role_rank(self, role: str | None) -> int:
        return 0 if role is None else self.role_ranks.get(role.lower(), 0)

    def is_powerful(self, role: str | None) -> bool:
        return self.powerful_rank is not None and self.role_rank(role) >= self.powerful_rank

    def ranks_as_a_whole(self, setting: str) -> bool:
        """Whether a setting whose value is a mapping is ranked by these terms as one value
        (otherwise its keys are compared one by one)."""
        return setting in self.fewer_is_weaker

    def open_when_absent(self, setting: str) -> bool:
        return setting in self.more_is_weaker

    def setting_change(self, setting: str, old: Any, new: Any) -> Verdict:
        """``weakened``, ``strengthened`` or ``changed`` (when strength cannot be told)."""
        return self.known_setting_change(setting, old, new) or "changed"

    def known_setting_change(self, setting: str, old: Any, new: Any) -> Verdict | None:
        """As :meth:`setting_change` for a setting these terms know; None for one they do not
        (the policy's generic reading of names then decides)."""
        return self._scalar_change(setting, old, new) or self._list_change(setting, old, new)

    def _scalar_change(self, setting: str, old: Any, new: Any) -> Verdict | None:
        is_rule = self.rule_prefix is not None and setting.startswith(self.rule_prefix)
        if setting in self.more_is_stronger and _numbers(old, new):
            return "strengthened" if (new or 0) > (old or 0) else "weakened"
        if is_rule and old and new:
            return "changed"  # a rule still in force, with other parameters
        if setting in self.true_is_stronger or is_rule:
            return "strengthened" if bool(new) else "weakened"
        if setting in self.true_is_weaker:
            return "weakened" if bool(new) else "strengthened"
        if setting in self.open_values:
            return _open_value_change(self.open_values[setting], old, new)
        return None

    def _list_change(self, setting: str, old: Any, new: Any) -> Verdict | None:
        if setting in self.fewer_is_weaker:
            if isinstance(old, Mapping) or isinstance(new, Mapping):
                return _counts_change(old, new)
            return _required_change(old, new)
        if setting in self.more_is_weaker:
            if old is None or new is None:  # absent means no restriction at all: anyone may
                return "weakened" if new is None else "strengthened"
            return _allowed_change(old, new)
        return None


NO_TERMS = AccessTerms()


def _open_value_change(open_value: Any, old: Any, new: Any) -> Verdict:
    if new == open_value:
        return "weakened"
    if old == open_value:
        return "strengthened"
    return "changed"


def _numbers(*values: Any) -> bool:
    return all(v is None or isinstance(v, int | float) for v in values)


def _required_change(old: Any, new: Any) -> Verdict:
    """Who or what must approve or pass: one gone is weaker, one added (and none gone)
    stronger."""
    before, after = _members(old), _members(new)
    if before - after:
        return "weakened"
    if after - before:
        return "strengthened"
    return "changed"


def _allowed_change(old: Any, new: Any) -> Verdict:
    """Who may act: someone added (and nobody removed) is weaker, the reverse stronger."""
    before, after = _members(old), _members(new)
    added, removed = bool(after - before), bool(before - after)
    if added == removed:
        return "changed"
    return "weakened" if added else "strengthened"


def _members(value: Any) -> set[str]:
    return {json.dumps(v, sort_keys=True) for v in (value or [])}


def _counts_change(old: Any, new: Any) -> Verdict:
    """Approvers with the approvals each must give: one gone or a count lowered is weaker,
    one added or a count raised is stronger; both at once cannot be ranked."""
    before = dict(old) if isinstance(old, Mapping) else {}
    after = dict(new) if isinstance(new, Mapping) else {}
    keys = set(before) | set(after)
    lower = any(_count(after.get(k)) < _count(before.get(k)) for k in keys)
    higher = any(_count(after.get(k)) > _count(before.get(k)) for k in keys)
    if lower == higher:
        return "changed"
    return "weakened" if lower else "strengthened"


def _count(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
