"""Who a GitLab user object is: a person, a bot (access-token and internal bot users) or a
service account."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pipeledger.plugin import UNKNOWN_ACTOR, Actor, ActorType

# Project and group access tokens act as users named project_<id>_bot[_<hex>].
_TOKEN_BOT = re.compile(r"^(project|group)_\d+_bot(_[0-9a-f]+)?$")
_SERVICE_ACCOUNT = re.compile(r"^service_account_")
# GitLab's internal users: ghost holds a deleted user's records, the others act for GitLab.
_INTERNAL_BOTS = frozenset(
    {
        "ghost",
        "support-bot",
        "alert-bot",
        "visual-review-bot",
        "security-bot",
        "automation-bot",
        "admin-bot",
        "suggested-reviewers-bot",
        "gitlab-llm-bot",
        "duo-code-review-bot",
        "gitlab-security-bot",
    }
)


def actor_type(username: str, user: Mapping[str, Any] | None = None) -> ActorType:
    if (user is not None and user.get("bot") is True) or is_bot_username(username):
        return ActorType.BOT
    if _SERVICE_ACCOUNT.match(username):
        return ActorType.SERVICE
    return ActorType.USER


def is_bot_username(username: str) -> bool:
    return username.lower() in _INTERNAL_BOTS or bool(_TOKEN_BOT.match(username))


def actor_from_user(user: Any) -> Actor:
    """A GitLab user object (``{id, username, name, ...}``): the username is the login, the
    display name goes to ``name``; a missing user is unknown."""
    if not isinstance(user, Mapping) or not user.get("username"):
        return UNKNOWN_ACTOR
    username = str(user["username"])
    ident = user.get("id")
    name = user.get("name")
    return Actor(
        login=username,
        id=None if ident is None else str(ident),
        type=actor_type(username, user),
        name=str(name) if name else None,
    )


def username_of(user: Any) -> str | None:
    if isinstance(user, Mapping) and user.get("username"):
        return str(user["username"])
    return None
