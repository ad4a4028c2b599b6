"""GitLab users by id, for events that name a person only by id and display name (audit
events): the users a run has already read — members, authors, approvers — answer first, then
``GET /users/:id``, asked once per unknown id per run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeledger.plugin import PermissionDenied
from pipeledger_gitlab.client import GitLabClient, GitLabNotFound

Json = Mapping[str, Any]


class UserDirectory:
    def __init__(self, client: GitLabClient) -> None:
        self._client = client
        self._users: dict[int, Json | None] = {}

    def learn(self, users: Iterable[Any]) -> None:
        """Remember user objects seen anywhere (``{id, username, name, ...}``)."""
        for user in users:
            if isinstance(user, Mapping) and user.get("username"):
                ident = user.get("id")
                if isinstance(ident, int) and self._users.get(ident) is None:
                    self._users[ident] = user

    def user(self, ident: int | None) -> Json | None:
        """The user with this id, or None for GitLab's stand-ins and deleted users."""
        if ident is None or ident <= 0:
            return None
        if ident not in self._users:
            try:
                self._users[ident] = self._client.get_object(f"/users/{ident}")
            except (GitLabNotFound, PermissionDenied):
                self._users[ident] = None
        return self._users[ident]
