"""What the GraphQL readers of listed items share (pipeline details, deployment approvals):
one query per batch of a project's items — an aliased field per item (``p0``, ``p1``, …) —
and the rule that an answer is used only when every node is exactly what was asked, with
REST's shapes for what GraphQL writes differently (a user's global ID).

GitLab scores a query one point per field, at most 250 per request (authenticated); the
readers size their batches to 181 with the project, room to spare for arguments GitLab may
charge."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Json = Mapping[str, Any]
# An item's detail in REST's shape, or None when its node is not what was asked for.
ReadNode = Callable[[Json, Any], Json | None]

_USER_GID = re.compile(r"gid://gitlab/User/(\d+)")


def aliased_query(field: str, alias: str, fragment: str, iids: Sequence[int]) -> str:
    """One ``ALIAS<n>: FIELD(iid: "…") { ...Fragment }`` per item of a project, the fragment
    (``fragment Name on Type { … }``) spread in each."""
    name = fragment.split()[1]
    fields = " ".join(
        f'{alias}{index}: {field}(iid: "{iid}") {{ ...{name} }}' for index, iid in enumerate(iids)
    )
    return f"query($path: ID!) {{ project(fullPath: $path) {{ {fields} }} }} {fragment}"


def project_of(answer: Json | None) -> Json | None:
    """The ``project`` of an answer with no errors, else None (REST answers instead)."""
    if answer is None or answer.get("errors"):
        return None
    data = answer.get("data")
    found = data.get("project") if isinstance(data, Mapping) else None
    return found if isinstance(found, Mapping) else None


def read_nodes(
    found: Json, alias: str, batch: Sequence[Json], read: ReadNode
) -> list[Json | None] | None:
    """Each item's detail in batch order, None for one deleted since it was listed (its node
    is null); None for the whole batch when any node is not what was asked for."""
    details: list[Json | None] = []
    for index, item in enumerate(batch):
        node = found.get(f"{alias}{index}", False)
        if node is None:
            details.append(None)
            continue
        detail = read(item, node)
        if detail is None:
            return None
        details.append(detail)
    return details


def positive_int(value: Any) -> int | None:
    """A listed item's ``id`` or ``iid``: a positive integer, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def rest_user(user: Any) -> dict[str, Any] | None:
    """``{id: "gid://gitlab/User/7", username, name}`` as REST shows it: ``{id: 7, ...}``."""
    if not isinstance(user, Mapping):
        return None
    match = _USER_GID.fullmatch(str(user.get("id")))
    username, name = user.get("username"), user.get("name")
    if match is None or not isinstance(username, str) or not isinstance(name, str):
        return None
    return {"id": int(match.group(1)), "username": username, "name": name}
