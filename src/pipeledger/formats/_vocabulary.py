"""Reads the open vocabulary of event actions and outcomes into the closed sets that SIEM
schemas need (success or failure, created or changed or removed)."""

from __future__ import annotations

from enum import StrEnum

from pipeledger.events import AuditEvent, EventKind

SUCCESS_WORDS = frozenset(
    {"success", "succeeded", "approved", "allowed", "pass", "passed", "granted", "completed"}
)
FAILURE_WORDS = frozenset(
    {
        "failure",
        "failed",
        "error",
        "errored",
        "rejected",
        "denied",
        "fail",
        "blocked",
        "timed_out",
        "cancelled",
        "canceled",
        "changes_requested",
    }
)
REMOVAL_WORDS = frozenset({"deleted", "removed", "revoked", "destroyed", "disabled"})
UPDATE_WORDS = frozenset({"updated", "edited", "changed", "renamed", "modified", "weakened"})


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    OTHER = "other"
    UNKNOWN = "unknown"


def outcome_of(event: AuditEvent) -> Outcome:
    """The outcome field when there is one, else the action (an approval's ``approved``)."""
    word = (event.outcome or "").lower()
    if not word and event.kind in (EventKind.DEPLOYMENT_APPROVAL, EventKind.CHANGE_REVIEW):
        word = event.action.lower()
    if not word:
        return Outcome.UNKNOWN
    if word in SUCCESS_WORDS:
        return Outcome.SUCCESS
    if word in FAILURE_WORDS:
        return Outcome.FAILURE
    return Outcome.OTHER


def is_removal(action: str) -> bool:
    return action.lower() in REMOVAL_WORDS


def is_update(action: str) -> bool:
    return action.lower() in UPDATE_WORDS


def summary(event: AuditEvent) -> str:
    """One line a person reads in a SIEM list: who did what where."""
    who = event.actor.login or "an unknown actor"
    where = event.scope.full_name or event.scope.owner
    if event.scope.environment:
        where = f"{where} ({event.scope.environment})"
    text = f"{who}: {event.kind.value} {event.action} in {where}"
    return f"{text}, {event.outcome}" if event.outcome else text
