"""What a GitLab audit event changed, in the terms snapshots use: a membership change names
the user's login and roles as ``maintainer``; a protected branch or environment change names
the target and its setting (``approval_rules``, ``allow_force_push``…) and whether it got
weaker or stronger. Event names and details follow GitLab's auditors (see the README)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeledger_gitlab.access.terms import ACCESS_TERMS
from pipeledger_gitlab.normalize.access import role_from_text

Json = Mapping[str, Any]

_MEMBER_SUBJECTS = frozenset({"user_access", "access_level"})
# Protected branch changes: details.change -> the setting snapshots record.
_BRANCH_SETTINGS = {
    "allow force push": "allow_force_push",
    "code owner approval required": "code_owner_approval_required",
    "allowed to push": "push_access_levels",
    "allowed to merge": "merge_access_levels",
}
# Protected environment rule events (details.custom_message only): setting and strength.
_ENVIRONMENT_RULE_EVENTS = {
    "protected_environment_approval_rule_added": ("approval_rules", "strengthened"),
    "protected_environment_approval_rule_deleted": ("approval_rules", "weakened"),
    "protected_environment_approval_rule_updated": ("approval_rules", "changed"),
    "protected_environment_deploy_access_level_added": ("deploy_access_levels", "weakened"),
    "protected_environment_deploy_access_level_deleted": ("deploy_access_levels", "strengthened"),
    "protected_environment_deploy_access_level_updated": ("deploy_access_levels", "changed"),
}
_COUNT_CHANGE = re.compile(r"required approval count from (\d+) to (\d+)")
_BOOLEAN_SETTINGS = frozenset({"allow_force_push", "code_owner_approval_required"})
_WHOLE_TARGET = {"created": "added", "added": "added", "deleted": "removed", "removed": "removed"}


@dataclass(frozen=True)
class Subject:
    """The refined target, action and change of one audit event."""

    target: dict[str, Any]
    action: str
    change: dict[str, Any] | None
    strength: str | None = None


def member_subject(item: Json, target_user: Json | None) -> Subject | None:
    """A membership added, changed or removed; the user's login when the user GitLab names
    by ``target_id`` carries the name the event shows (older GitLab put the membership's
    id there, which must not be taken for a user's)."""
    details = _details(item)
    verb, subject = _verb(details)
    if details.get("target_type") != "User" or subject not in _MEMBER_SUBJECTS:
        return None
    target: dict[str, Any] = {"type": "user", "id": _text(details.get("target_id"))}
    login = _login(target_user, details.get("target_details"))
    if login:
        target["login"] = login
    elif details.get("target_details"):
        target["name"] = str(details["target_details"])
    role = role_from_text(details.get("as"))
    if verb == "add":
        action, change = "granted", {"from": None, "to": role}
    elif verb == "remove":
        action, change = "revoked", {"from": role, "to": None}
    else:
        before, after = role_from_text(details.get("from")), role_from_text(details.get("to"))
        action, change = "changed", {"from": before, "to": after}
    return Subject({k: v for k, v in target.items() if v is not None}, action, change)


def protection_subject(item: Json) -> Subject | None:
    """A protected branch or environment changed: which one, which setting, how."""
    details = _details(item)
    name = details.get("target_details")
    event_name = str(item.get("event_name") or "")
    kind = _protected_kind(details, event_name)
    if kind is None or not isinstance(name, str) or not name:
        return None
    if event_name in _ENVIRONMENT_RULE_EVENTS:
        return _rule_event(event_name, name, details)
    change_text = details.get("change")
    setting = _setting(kind, change_text)
    if setting is not None:
        before, after = _value(setting, details.get("from")), _value(setting, details.get("to"))
        strength = ACCESS_TERMS.setting_change(setting, before, after)
        target = {"type": kind, "name": name, "setting": setting}
        return Subject(target, strength, {"from": before, "to": after}, _strength(strength))
    whole = _WHOLE_TARGET.get(event_name.rpartition("_")[2])
    if whole is not None:
        strength = "stronger" if whole == "added" else "weaker"
        return Subject({"type": kind, "name": name}, whole, None, strength)
    return None


def _rule_event(event_name: str, name: str, details: Json) -> Subject:
    setting, action = _ENVIRONMENT_RULE_EVENTS[event_name]
    counts = _COUNT_CHANGE.search(str(details.get("custom_message") or ""))
    if counts and action == "changed":
        action = ACCESS_TERMS.setting_change("required_approvals", int(counts[1]), int(counts[2]))
    target = {"type": "environment", "name": name, "setting": setting}
    # The message names approvers by display text, not by the ids snapshots keep: the event
    # carries no comparable from/to, only its message (in attributes).
    return Subject(target, action, None, _strength(action))


def _protected_kind(details: Json, event_name: str) -> str | None:
    target_type = details.get("target_type")
    if target_type == "ProtectedEnvironment" or event_name.startswith("protected_environment"):
        return "environment"
    if target_type == "ProtectedBranch" or event_name.startswith("protected_branch"):
        return "branch"
    return None


def _setting(kind: str, change_text: Any) -> str | None:
    if not isinstance(change_text, str):
        return None
    if kind == "branch":
        return _BRANCH_SETTINGS.get(change_text)
    return change_text if change_text == "required_approval_count" else None


def _value(setting: str, value: Any) -> Any:
    """GitLab writes some from/to values as text ("true", "2")."""
    if setting in _BOOLEAN_SETTINGS and isinstance(value, str):
        return value.strip().lower() == "true"
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _strength(action: str) -> str | None:
    return {"weakened": "weaker", "strengthened": "stronger"}.get(action, "unknown")


def _login(user: Json | None, shown_name: Any) -> str | None:
    if user is None or not user.get("username"):
        return None
    if shown_name and user.get("name") and str(user["name"]) != str(shown_name):
        return None
    return str(user["username"])


def _verb(details: Json) -> tuple[str | None, str | None]:
    for verb in ("change", "add", "remove"):
        value = details.get(verb)
        if isinstance(value, str) and value:
            return verb, value
    return None, None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _details(item: Json) -> Json:
    details = item.get("details")
    return details if isinstance(details, Mapping) else {}
