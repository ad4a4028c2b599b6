"""How much a change of one protection setting guards: ``weakened``, ``strengthened`` or
``changed`` when that cannot be told. One table for both forges' setting names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Settings where a larger value guards more, a smaller one less.
_MORE_IS_STRONGER = {
    "wait_timer",
    "required_approving_review_count",
    "required_approvals",
    "required_approval_count",
}
# Settings where true guards and false does not. A name starting with ``rule:`` is a rule
# that is in force (true, or its parameters) or not (absent).
_TRUE_IS_STRONGER = {
    "prevent_self_review",
    "enforce_admins",
    "require_code_owner_reviews",
    "require_code_owner_review",
    "dismiss_stale_reviews",
    "dismiss_stale_reviews_on_push",
    "required_signatures",
    "required_linear_history",
    "require_last_push_approval",
    "required_review_thread_resolution",
    "required_conversation_resolution",
    "required_pull_request_reviews",
    "strict_required_status_checks",
    "lock_branch",
    "protected_branches_only",
    "code_owner_approval_required",
}
# Settings where true opens a door.
_TRUE_IS_WEAKER = {
    "admin_bypass",
    "allow_force_pushes",
    "allow_force_push",
    "allow_deletions",
    "can_admins_bypass",
}
# Lists of people or rules who must approve or pass: fewer is weaker. A mapping (approver ->
# number of approvals it must give) is weaker when an approver goes or a number drops.
_LIST_MORE_IS_STRONGER = {
    "required_reviewers",
    "approval_rules",
    "required_status_checks",
    "custom_rules",
}
# Of the settings whose value may be a mapping, those the table ranks as a whole.
RANKED_MAPPINGS = frozenset(_LIST_MORE_IS_STRONGER)
# Lists of who or what may get through (push, merge, bypass, deploy, deploy from): more is
# weaker, and no list at all (None) lets everyone through.
_LIST_MORE_IS_WEAKER = {
    "push_allowances",
    "bypass_actors",
    "branch_policies",
    "deploy_access_levels",
    "push_access_levels",
    "merge_access_levels",
    "unprotect_access_levels",
}
# Of the lists, those whose absence lets everyone through.
OPEN_WHEN_ABSENT = frozenset(_LIST_MORE_IS_WEAKER)
# Which branches may deploy to an environment: "all" guards least.
_OPEN_VALUES = {"deployment_branches": "all"}


def setting_change(setting: str, old: Any, new: Any) -> str:
    """``weakened``, ``strengthened`` or ``changed`` (when strength cannot be told)."""
    return known_setting_change(setting, old, new) or "changed"


def known_setting_change(setting: str, old: Any, new: Any) -> str | None:
    """As :func:`setting_change` for a setting in these tables; None for one they do not
    know (the policy's generic reading of names then decides)."""
    return _scalar_change(setting, old, new) or _list_change_of(setting, old, new)


def _scalar_change(setting: str, old: Any, new: Any) -> str | None:
    if setting in _MORE_IS_STRONGER and _numbers(old, new):
        return "strengthened" if (new or 0) > (old or 0) else "weakened"
    if setting.startswith("rule:") and old and new:
        return "changed"  # a rule still in force, with other parameters
    if setting in _TRUE_IS_STRONGER or setting.startswith("rule:"):
        return "strengthened" if bool(new) else "weakened"
    if setting in _TRUE_IS_WEAKER:
        return "weakened" if bool(new) else "strengthened"
    if setting in _OPEN_VALUES:
        return _open_value_change(_OPEN_VALUES[setting], old, new)
    return None


def _list_change_of(setting: str, old: Any, new: Any) -> str | None:
    if setting in _LIST_MORE_IS_STRONGER:
        if isinstance(old, Mapping) or isinstance(new, Mapping):
            return _counts_change(old, new)
        return _list_change(old, new)
    if setting in _LIST_MORE_IS_WEAKER:
        # Absent means no restriction at all: anyone may.
        if old is None or new is None:
            return "weakened" if new is None else "strengthened"
        return _access_change(old, new)
    return None


def _open_value_change(open_value: Any, old: Any, new: Any) -> str:
    if new == open_value:
        return "weakened"
    if old == open_value:
        return "strengthened"
    return "changed"


def _numbers(*values: Any) -> bool:
    return all(v is None or isinstance(v, int | float) for v in values)


def _list_change(old: Any, new: Any) -> str:
    before = {json.dumps(v, sort_keys=True) for v in (old or [])}
    after = {json.dumps(v, sort_keys=True) for v in (new or [])}
    if before - after:
        return "weakened"
    if after - before:
        return "strengthened"
    return "changed"


def _counts_change(old: Any, new: Any) -> str:
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


def _access_change(old: Any, new: Any) -> str:
    """Who may act: someone added (and nobody removed) is weaker, the reverse stronger."""
    before = {json.dumps(v, sort_keys=True) for v in (old or [])}
    after = {json.dumps(v, sort_keys=True) for v in (new or [])}
    added, removed = bool(after - before), bool(before - after)
    if added == removed:
        return "changed"
    return "weakened" if added else "strengthened"
