"""Pure functions from GitLab API payloads to audit events: pipelines, deployments, their
approvals and the merge request approvals of a deployed commit."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeledger.plugin import Actor, AuditEvent, EventKind, Scope, Source, event_id, parse_time
from pipeledger_gitlab.normalize.actors import actor_from_user, username_of

PLATFORM = "gitlab"
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f<>\"{}|\\^`]+", re.IGNORECASE)
PIPELINE_ENDPOINT = "/projects/:id/pipelines/:pipeline_id"
DEPLOYMENT_ENDPOINT = "/projects/:id/deployments/:deployment_id"
MR_APPROVALS_ENDPOINT = "/projects/:id/merge_requests/:merge_request_iid/approvals"
FINISHED = frozenset({"success", "failed", "canceled", "skipped"})
DEFAULT_WORKFLOW = ".gitlab-ci.yml"

Json = Mapping[str, Any]


@dataclass(frozen=True)
class ProjectRef:
    """A project as events name it: owner = namespace full path, repository = project path."""

    id: int
    full_path: str

    @property
    def owner(self) -> str:
        return self.full_path.rpartition("/")[0] or self.full_path

    @property
    def name(self) -> str:
        return self.full_path.rpartition("/")[2]

    def scope(self, environment: str | None = None) -> Scope:
        return Scope(owner=self.owner, repository=self.name, environment=environment)

    @classmethod
    def from_api(cls, project: Json) -> ProjectRef:
        return cls(id=int(project["id"]), full_path=str(project["path_with_namespace"]))


@dataclass(frozen=True)
class Origin:
    """Where payloads came from: the instance host and the project."""

    instance: str
    project: ProjectRef

    def make(
        self,
        kind: EventKind,
        endpoint: str,
        native_id: str,
        *,
        action: str,
        occurred_at: datetime,
        actor: Actor,
        environment: str | None = None,
        **optional: Any,
    ) -> AuditEvent:
        return AuditEvent(
            id=event_id(PLATFORM, self.instance, endpoint, native_id),
            kind=kind,
            action=action,
            occurred_at=occurred_at,
            platform=PLATFORM,
            instance=self.instance,
            actor=actor,
            scope=self.project.scope(environment),
            source=Source(endpoint=endpoint, native_id=native_id),
            **optional,
        )


def full_ref(ref: str | None, tag: Any = False) -> str | None:
    """``main`` → ``refs/heads/main``; a tag → ``refs/tags/v1``; ``refs/…`` stays."""
    if not ref:
        return None
    if ref.startswith("refs/"):
        return ref
    return f"refs/tags/{ref}" if tag is True else f"refs/heads/{ref}"


def pipeline_event(
    origin: Origin, pipeline: Json, attempt_actor: Actor | None = None
) -> AuditEvent:
    """One event per (pipeline, status); ``attempt_actor`` is who started this attempt when
    it is known to differ from the pipeline's user (a manual or retried job in the gate)."""
    status = str(pipeline["status"])
    initial = actor_from_user(pipeline.get("user"))
    pipeline_id = str(pipeline["id"])
    return origin.make(
        EventKind.PIPELINE_RUN,
        PIPELINE_ENDPOINT,
        f"{pipeline_id}/{status}",
        action=status,
        occurred_at=_pipeline_time(pipeline, status),
        actor=attempt_actor or initial,
        ref=full_ref(pipeline.get("ref"), pipeline.get("tag")),
        sha=commit_sha(pipeline.get("sha")),
        outcome=status if status in FINISHED else None,
        correlation={"pipeline_id": pipeline_id, "run_id": pipeline_id},
        links=_link(pipeline.get("web_url")),
        attributes=_without_none(
            {
                "initial_actor": initial.login,
                "source": pipeline.get("source"),
                "workflow": pipeline.get("name") or DEFAULT_WORKFLOW,
                "iid": pipeline.get("iid"),
            }
        ),
    )


def _pipeline_time(pipeline: Json, status: str) -> datetime:
    """To the second: GitLab's GraphQL and its webhooks give pipeline times in whole seconds,
    REST in milliseconds, so one pipeline read any of these ways is one and the same event."""
    order: tuple[str, ...]
    if status in FINISHED:
        order = ("finished_at", "updated_at", "created_at")
    elif status == "running":
        order = ("started_at", "updated_at", "created_at")
    else:
        order = ("updated_at", "created_at")
    return _first_time(pipeline, order).replace(microsecond=0)


def deployment_events(origin: Origin, deployment: Json) -> list[AuditEvent]:
    """The creation, and the current status when it has moved on from ``created``."""
    status = str(deployment["status"])
    events = [_deployment_event(origin, deployment, "created", _time(deployment["created_at"]))]
    if status != "created":
        moment = _first_time(deployment, ("finished_at", "updated_at", "created_at"))
        events.append(_deployment_event(origin, deployment, status, moment))
    return events


def deployment_status_event(
    origin: Origin, deployment: Json, action: str, moment: datetime
) -> AuditEvent:
    """One status of a deployment (``created``, ``running``, ``success``…) at ``moment``: the
    event ``deployment_events`` gives that status, for a source that sees one at a time."""
    return _deployment_event(origin, deployment, action, moment)


def _deployment_event(
    origin: Origin, deployment: Json, action: str, moment: datetime
) -> AuditEvent:
    deployable = _mapping(deployment.get("deployable"))
    environment = _mapping(deployment.get("environment"))
    return origin.make(
        EventKind.DEPLOYMENT,
        DEPLOYMENT_ENDPOINT,
        f"{deployment['id']}/{action}",
        action=action,
        occurred_at=moment,
        actor=actor_from_user(deployment.get("user")),
        environment=_environment_name(deployment),
        ref=full_ref(deployment.get("ref"), deployable.get("tag")),
        sha=commit_sha(deployment.get("sha")),
        outcome=action if action in FINISHED else None,
        correlation=deployment_correlation(deployment),
        links=_link(deployable.get("web_url")),
        attributes=_without_none(
            {
                "iid": deployment.get("iid"),
                "job": deployable.get("name"),
                "stage": deployable.get("stage"),
                "environment_url": environment.get("external_url"),
            }
        ),
    )


def deployment_correlation(deployment: Json) -> dict[str, str]:
    deployable = _mapping(deployment.get("deployable"))
    pipeline = _mapping(deployable.get("pipeline"))
    correlation = {"deployment_id": str(deployment["id"])}
    if pipeline.get("id") is not None:
        correlation["pipeline_id"] = correlation["run_id"] = str(pipeline["id"])
    if deployable.get("id") is not None:
        correlation["job_id"] = str(deployable["id"])
    return correlation


def has_approval_data(deployment: Json) -> bool:
    """False on GitLab Free, whose deployment objects carry no approval fields at all."""
    return "approvals" in deployment or "approval_summary" in deployment


def deployment_approval_events(origin: Origin, deployment: Json) -> list[AuditEvent]:
    """Approvals from the unified list and from each rule of ``approval_summary``, once each;
    each dated to the second: GitLab's GraphQL gives approval times in whole seconds, REST in
    milliseconds, so one approval read either way is one and the same event."""
    events: dict[str, AuditEvent] = {}
    for approval, rule in _approvals(deployment):
        event = _approval_event(origin, deployment, approval, rule)
        events.setdefault(event.id, event)
    return list(events.values())


def _approvals(deployment: Json) -> list[tuple[Json, str | None]]:
    found: list[tuple[Json, str | None]] = [(a, None) for a in deployment.get("approvals") or []]
    summary = _mapping(deployment.get("approval_summary"))
    for rule in summary.get("rules") or []:
        name = rule.get("access_level_description")
        found.extend((a, name) for a in rule.get("deployment_approvals") or [])
    return found


def _approval_event(
    origin: Origin, deployment: Json, approval: Json, rule: str | None
) -> AuditEvent:
    user = _mapping(approval.get("user"))
    status = str(approval["status"])
    correlation = deployment_correlation(deployment)
    correlation.pop("job_id", None)
    return origin.make(
        EventKind.DEPLOYMENT_APPROVAL,
        DEPLOYMENT_ENDPOINT,
        f"{deployment['id']}/approval/{user.get('id')}/{status}",
        action=status,
        occurred_at=_time(approval["created_at"]).replace(microsecond=0),
        actor=actor_from_user(user),
        environment=_environment_name(deployment),
        ref=full_ref(deployment.get("ref"), _mapping(deployment.get("deployable")).get("tag")),
        sha=commit_sha(deployment.get("sha")),
        correlation=correlation,
        # comment stays even when null: "approved without a comment" is itself evidence.
        attributes={"comment": approval.get("comment")} | ({"rule": rule} if rule else {}),
    )


def review_events(
    origin: Origin,
    merge_request: Json,
    approvals: Json,
    deployment: Json | None,
) -> list[AuditEvent]:
    """``change.review`` for each approver of a merge request that holds the deployed commit."""
    approvers: Sequence[Json] = approvals.get("approved_by") or []
    return [_review_event(origin, merge_request, entry, deployment) for entry in approvers]


def _review_event(
    origin: Origin, merge_request: Json, entry: Json, deployment: Json | None
) -> AuditEvent:
    user = _mapping(entry.get("user"))
    iid = int(merge_request["iid"])
    project_id = merge_request.get("project_id", origin.project.id)
    native = f"{project_id}!{iid}/{user.get('id')}"
    correlation = {"pull_request": str(iid)}
    if deployment is not None:
        native += f"/deployment/{deployment['id']}"
        correlation["deployment_id"] = str(deployment["id"])
    return origin.make(
        EventKind.CHANGE_REVIEW,
        MR_APPROVALS_ENDPOINT,
        native,
        action="approved",
        occurred_at=_first_time(
            {**merge_request, **entry}, ("approved_at", "merged_at", "updated_at", "created_at")
        ),
        actor=actor_from_user(user),
        sha=commit_sha((deployment or {}).get("sha")),
        target={
            "type": "merge_request",
            "number": iid,
            "author": username_of(merge_request.get("author")),
            "merged_at": merge_request.get("merged_at"),
            "merge_commit_sha": merge_request.get("merge_commit_sha"),
            "base": full_ref(merge_request.get("target_branch")),
            "merged": is_merged(merge_request),
            **_without_none(
                {
                    "state": merge_request.get("state"),
                    "head": full_ref(merge_request.get("source_branch")),
                    # When the change began, for DORA's lead time.
                    "created_at": merge_request.get("created_at"),
                }
            ),
        },
        correlation=correlation,
        links=_link(merge_request.get("web_url")),
        attributes=_without_none(
            {"title": merge_request.get("title"), "state": merge_request.get("state")}
        ),
    )


def is_merged(merge_request: Json) -> bool:
    """GitLab says "merged" in ``state``; ``merged_at`` is empty on some merge requests
    merged before GitLab recorded it (and on fast-forward merges of some versions)."""
    return merge_request.get("state") == "merged" or bool(merge_request.get("merged_at"))


def _environment_name(deployment: Json) -> str | None:
    name = _mapping(deployment.get("environment")).get("name")
    return str(name) if name else None


def _first_time(payload: Json, keys: Sequence[str]) -> datetime:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value:
            return _time(value)
    raise KeyError(keys[0])


def _time(value: Any) -> datetime:
    return parse_time(str(value))


def _mapping(value: Any) -> Json:
    return value if isinstance(value, Mapping) else {}


def _link(url: Any) -> dict[str, str]:
    """An absolute http(s) URL without whitespace or control characters, or no link."""
    return {"html": url} if isinstance(url, str) and _WEB_URL.fullmatch(url) else {}


def commit_sha(value: Any) -> str | None:
    """A commit SHA as GitLab writes it (hex), in lowercase; anything else is no SHA."""
    if isinstance(value, str) and _SHA.fullmatch(value):
        return value.lower()
    return None


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
