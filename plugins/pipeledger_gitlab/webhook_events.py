"""GitLab webhooks (project, group and system hooks) as the events ``collect`` records for the
same facts, with the same ids: a pipeline's status, a deployment's status, a merge request
approval. Membership hooks carry what no API gives after the fact: the moment a member was
added, changed or removed. Pure functions; no network."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pipeledger.plugin import (
    UNKNOWN_ACTOR,
    AuditEvent,
    EventKind,
    Scope,
    Source,
    event_id,
    parse_time,
)
from pipeledger_gitlab.normalize.access import role_from_text
from pipeledger_gitlab.normalize.pipelines import (
    MR_APPROVALS_ENDPOINT,
    PLATFORM,
    Origin,
    ProjectRef,
    commit_sha,
    deployment_status_event,
    pipeline_event,
    review_events,
)

Json = Mapping[str, Any]
_T = TypeVar("_T")

# GitLab writes webhook times three ways: ISO 8601, "2016-08-12 15:23:28 UTC" and
# "2021-04-28 21:50:00 +0200".
_SPACED_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ?(UTC|[+-]\d{2}:?\d{2})$"
)
_APPROVED = frozenset({"approved", "approval"})
_UNAPPROVED = frozenset({"unapproved", "unapproval"})
# Member hook ``event_name`` → what happened to the access.
_MEMBER_VERDICTS = {
    "user_add_to_group": "granted",
    "user_update_for_group": "changed",
    "user_remove_from_group": "revoked",
    "user_add_to_team": "granted",
    "user_update_for_team": "changed",
    "user_remove_from_team": "revoked",
}
# Access requests and their denial change nobody's access.
MEMBER_NOTHING_TO_RECORD = frozenset(
    {
        "user_access_request_to_group",
        "user_access_request_denied_for_group",
        "user_access_request_to_project",
        "user_access_request_denied_for_project",
    }
)


class UnusablePayload(ValueError):
    """A delivery of a mapped hook that lacks what its events need."""


def hook_time(value: Any) -> str | None:
    """A webhook time as RFC 3339, which ``parse_time`` reads; None when there is none."""
    if not isinstance(value, str) or not value:
        return None
    spaced = _SPACED_TIME.match(value.strip())
    if spaced is None:
        return value
    day, clock, zone = spaced.groups()
    if zone == "UTC":
        return f"{day}T{clock}+00:00"
    zone = zone.replace(":", "")
    return f"{day}T{clock}{zone[:3]}:{zone[3:]}"


def pipeline_hook(payload: Json, instance: str) -> list[AuditEvent]:
    """``Pipeline Hook``: the pipeline in its new status, as ``collect`` records it."""
    attributes = _object(payload, "object_attributes")
    status = attributes.get("status")
    if attributes.get("id") is None or not isinstance(status, str) or not status:
        raise UnusablePayload("object_attributes.id and .status (text) are required")
    pipeline = {
        **attributes,
        **_times(attributes, ("created_at", "updated_at", "started_at", "finished_at")),
        "user": payload.get("user"),
        "web_url": attributes.get("url"),
    }
    return [_guarded(lambda: pipeline_event(Origin(instance, _project(payload)), pipeline))]


def deployment_hook(payload: Json, instance: str) -> list[AuditEvent]:
    """``Deployment Hook``: the deployment in its new status at ``status_changed_at``; its
    creation comes from ``collect`` (the hook gives no creation time)."""
    status = payload.get("status")
    moment = hook_time(payload.get("status_changed_at"))
    if payload.get("deployment_id") is None or not isinstance(status, str) or not status:
        raise UnusablePayload("deployment_id and status (text) are required")
    if moment is None:
        raise UnusablePayload("status_changed_at is required")
    deployment = {
        "id": payload["deployment_id"],
        "status": status,
        "user": payload.get("user"),
        "ref": payload.get("ref"),
        "sha": _sha_of_commit_url(payload.get("commit_url")),
        "environment": {
            "name": payload.get("environment"),
            "external_url": payload.get("environment_external_url"),
        },
        "deployable": {
            "id": payload.get("deployable_id"),
            "web_url": payload.get("deployable_url"),
        },
    }
    origin = Origin(instance, _project(payload))
    return [
        _guarded(lambda: deployment_status_event(origin, deployment, status, parse_time(moment)))
    ]


def merge_request_hook(
    payload: Json, instance: str, delivery: str, received_at: datetime
) -> list[AuditEvent]:
    """``Merge Request Hook``: an approval is the ``change.review`` ``check`` records for the
    merge request (same id); a withdrawn approval is a review ``unapproved``. Other actions
    (open, update, merge…) are no review and record nothing."""
    attributes = _object(payload, "object_attributes")
    action = attributes.get("action")
    if action not in _APPROVED | _UNAPPROVED:
        return []
    user = _object(payload, "user")
    if attributes.get("iid") is None or user.get("id") is None:
        raise UnusablePayload("object_attributes.iid and user.id are required")
    project = _project(payload)
    merge_request = {
        **attributes,
        **_times(attributes, ("created_at", "updated_at", "merged_at")),
        "project_id": attributes.get("target_project_id") or project.id,
        "web_url": attributes.get("url"),
    }
    origin = Origin(instance, project)
    approvals = {"approved_by": [{"user": user}]}
    reviews = _guarded(lambda: review_events(origin, merge_request, approvals, None))
    if action in _APPROVED:
        return reviews
    return [_withdrawn(review, delivery, received_at) for review in reviews]


def _withdrawn(review: AuditEvent, delivery: str, received_at: datetime) -> AuditEvent:
    """An approval taken back: its own event per delivery, dated when it was delivered."""
    native_id = f"{review.source.native_id}/unapproved/{delivery}"
    return AuditEvent(
        id=event_id(PLATFORM, review.instance, MR_APPROVALS_ENDPOINT, native_id),
        kind=review.kind,
        action="unapproved",
        occurred_at=received_at,
        platform=PLATFORM,
        instance=review.instance,
        actor=review.actor,
        scope=review.scope,
        source=Source(endpoint=MR_APPROVALS_ENDPOINT, native_id=native_id),
        target=review.target,
        correlation=review.correlation,
        links=review.links,
        attributes={**review.attributes, "occurred_at_source": "received_at"},
    )


def member_hook(
    payload: Json, instance: str, delivery: str, received_at: datetime, hook: str
) -> list[AuditEvent] | None:
    """``Member Hook`` (group webhooks) and the member events of ``System Hook`` (group and
    project, "team", memberships) as ``permission.change``. None for an ``event_name`` that
    is no membership event. The hooks name no one who made the change (actor unknown) and no
    time for it: the delivery's arrival stands in, labelled so."""
    name = payload.get("event_name")
    if name in MEMBER_NOTHING_TO_RECORD:
        return []
    verdict = _MEMBER_VERDICTS.get(str(name))
    if verdict is None:
        return None
    login = payload.get("user_username")
    if not login:
        raise UnusablePayload("user_username is required")
    scope, role = _member_scope(payload)
    change = {
        "granted": {"from": None, "to": role},
        "changed": {"from": None, "to": role},
        "revoked": {"from": role, "to": None},
    }[verdict]
    target = {"type": "user", "login": str(login)}
    if payload.get("user_id") is not None:
        target["id"] = str(payload["user_id"])
    endpoint = f"webhook:{hook}"
    return [
        AuditEvent(
            id=event_id(PLATFORM, instance, endpoint, delivery),
            kind=EventKind.PERMISSION_CHANGE,
            action=verdict,
            occurred_at=received_at,
            platform=PLATFORM,
            instance=instance,
            actor=UNKNOWN_ACTOR,
            scope=scope,
            source=Source(endpoint=endpoint, native_id=delivery),
            target=target,
            change=change,
            attributes={
                "detected_by": "webhook",
                "webhook_event": str(name),
                "occurred_at_source": "received_at",
            },
        )
    ]


def _member_scope(payload: Json) -> tuple[Scope, str | None]:
    """A project membership (``…_team``) is scoped to the project, a group one to the group,
    as the member snapshots of ``collect`` scope them."""
    project_path = payload.get("project_path_with_namespace")
    if isinstance(project_path, str) and project_path:
        project = ProjectRef(id=int(payload.get("project_id") or 0), full_path=project_path)
        return project.scope(), role_from_text(payload.get("access_level"))
    group = payload.get("group_path")
    if not isinstance(group, str) or not group:
        raise UnusablePayload("group_path or project_path_with_namespace is required")
    return Scope(owner=group), role_from_text(payload.get("group_access"))


# A hook's mapper: (payload, instance, delivery id, received at) → events, or None when the
# delivery is of a kind the hook's mapper does not know.
Mapper = Callable[[Json, str, str, datetime], list[AuditEvent] | None]


def system_hook(
    payload: Json, instance: str, delivery: str, received_at: datetime
) -> list[AuditEvent] | None:
    """A system hook: membership events; merge request approvals when GitLab sends them
    through the system hook too (``object_kind: merge_request``); anything else unmapped."""
    if payload.get("object_kind") == "merge_request":
        return merge_request_hook(payload, instance, delivery, received_at)
    return member_hook(payload, instance, delivery, received_at, "system")


# ``X-Gitlab-Event`` → the mapper of that hook; ``System Hook`` is dispatched on its body.
MAPPERS: dict[str, Mapper] = {
    "Pipeline Hook": lambda p, i, d, r: pipeline_hook(p, i),
    "Deployment Hook": lambda p, i, d, r: deployment_hook(p, i),
    "Merge Request Hook": merge_request_hook,
    "Member Hook": lambda p, i, d, r: member_hook(p, i, d, r, "member"),
    "System Hook": system_hook,
    # A job is recorded through its pipeline and its deployment, whose hooks name the
    # pipeline's user and the deployer; the job hook names only the job's user.
    "Job Hook": lambda p, i, d, r: [],
}


def _project(payload: Json) -> ProjectRef:
    project = _object(payload, "project")
    if project.get("id") is None or not project.get("path_with_namespace"):
        raise UnusablePayload("project.id and project.path_with_namespace are required")
    return ProjectRef(id=int(project["id"]), full_path=str(project["path_with_namespace"]))


def _object(payload: Json, key: str) -> Json:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def _times(values: Json, keys: tuple[str, ...]) -> dict[str, str | None]:
    return {key: hook_time(values.get(key)) for key in keys if key in values}


def _sha_of_commit_url(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    return commit_sha(url.rstrip("/").rpartition("/")[2])


def _guarded(make: Callable[[], _T]) -> _T:
    """The collector's normalizers raise KeyError/ValueError/TypeError on a payload without
    the fields they need; a delivery says so as one error."""
    try:
        return make()
    except (KeyError, ValueError, TypeError) as error:
        raise UnusablePayload(f"a field is missing or malformed ({error})") from None
