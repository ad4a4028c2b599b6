"""GitLab audit event streaming (Ultimate): each streamed event is an audit event as the
audit events API returns it, plus its type and entity path at the top level. It is recorded
exactly as ``collect`` records the same event read from the API — same classification, same
id (endpoint of its entity, its id) — so the stream and a later backfill keep one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeledger.plugin import AuditEvent, Scope
from pipeledger_gitlab.audit.events import (
    GROUP_AUDIT_ENDPOINT,
    PROJECT_AUDIT_ENDPOINT,
    audit_event,
    author_actor,
    classify,
)
from pipeledger_gitlab.normalize.pipelines import ProjectRef

# Events of users and of the instance itself; collect reads no such list.
INSTANCE_AUDIT_ENDPOINT = "/audit_events"

Json = Mapping[str, Any]


def as_api_item(streamed: Json) -> Json:
    """The streamed event as the API item: the API names its type ``event_name``."""
    if streamed.get("event_name") or not streamed.get("event_type"):
        return streamed
    return {**streamed, "event_name": streamed["event_type"]}


def is_recorded(streamed: Json) -> bool:
    """Access and protection changes are recorded; Git operations, merge request creation
    and the rest of the stream are not, as ``collect`` leaves them."""
    return classify(as_api_item(streamed)) is not None


def streamed_event(instance: str, streamed: Json) -> AuditEvent | None:
    """The event ``collect`` makes of the same audit event. Streams name the author by id and
    display name only; without the API to ask, the login is ``user-id:<id>`` (as ``collect``
    writes an author whose username it cannot read)."""
    item = as_api_item(streamed)
    endpoint, scope = _source(item)
    return audit_event(instance, scope, endpoint, item, author_actor(item, None), None)


def _source(item: Json) -> tuple[str, Scope]:
    path = _entity_path(item)
    entity_type = item.get("entity_type")
    if entity_type == "Project" and "/" in path:
        project = ProjectRef(id=int(item.get("entity_id") or 0), full_path=path)
        return PROJECT_AUDIT_ENDPOINT, project.scope()
    if entity_type == "Group" and path:
        return GROUP_AUDIT_ENDPOINT, Scope(owner=path)
    return INSTANCE_AUDIT_ENDPOINT, Scope(owner=path or "(instance)")


def _entity_path(item: Json) -> str:
    details = item.get("details")
    for value in (
        item.get("entity_path"),
        details.get("entity_path") if isinstance(details, Mapping) else None,
    ):
        if isinstance(value, str) and value:
            return value
    return ""
