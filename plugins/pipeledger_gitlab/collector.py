"""``collect`` for GitLab: expands groups to their projects (with subgroups) and walks each
project's pipelines, deployments and audit events, one batch per page with its cursor; then
snapshots each group's and project's members and protections (one batch per scope)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pipeledger.plugin import (
    AuditEvent,
    Batch,
    CollectRequest,
    CollectScope,
    CursorReader,
    Holding,
    Progress,
    Scope,
    ScopedCollection,
    format_time,
    run_serially,
)
from pipeledger_gitlab.access.snapshots import (
    AccessSnapshots,
    SnapshotScope,
    group_scope,
    project_scope,
)
from pipeledger_gitlab.audit.events import GROUP_AUDIT_ENDPOINT, PROJECT_AUDIT_ENDPOINT
from pipeledger_gitlab.audit.stream import AuditSource, AuditStream
from pipeledger_gitlab.client import GitLabClient, GitLabNotFound, encode_path
from pipeledger_gitlab.cursor import Mark, start_from, walk_by_time
from pipeledger_gitlab.evidence import DeploymentEvidence
from pipeledger_gitlab.normalize.pipelines import (
    DEPLOYMENT_ENDPOINT,
    PIPELINE_ENDPOINT,
    Origin,
    ProjectRef,
    pipeline_event,
)
from pipeledger_gitlab.pipeline_details import PipelineDetails
from pipeledger_gitlab.users import UserDirectory

Json = Mapping[str, Any]


@dataclass(frozen=True)
class GroupRef:
    id: int
    full_path: str


@dataclass(frozen=True)
class Window:
    since: datetime | None
    until: datetime


class GitLabCollector:
    def __init__(
        self,
        client: GitLabClient,
        instance: str,
        progress: Progress,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._client = client
        self._instance = instance
        self._progress = progress
        users = UserDirectory(client)
        self._evidence = DeploymentEvidence(client, instance, progress, users)
        self._details = PipelineDetails(client)
        self._audit = AuditStream(client, instance, progress, users)
        self._snapshots = AccessSnapshots(
            client, instance, progress, clock or (lambda: datetime.now(UTC)), users
        )
        self._holdings = threading.local()

    def run(self, request: CollectRequest, cursors: CursorReader, now: datetime) -> Iterator[Batch]:
        yield from run_serially(self.scoped(request, now), cursors)

    def scoped(self, request: CollectRequest, now: datetime) -> ScopedCollection:
        return _Projects(self, request, now)

    def expect_scopes(self, count: int) -> None:
        self._progress.expect(repositories=count)

    def groups(
        self, groups: list[GroupRef], cursors: CursorReader, window: Window, snapshots: bool
    ) -> Iterator[Batch]:
        for group in groups:
            self._progress.update(repository=group.full_path)
            yield from self._audit_batches(self._group_audit(group), cursors, window)
            if snapshots:
                yield self._snapshot(group_scope(group.id, group.full_path), cursors)

    def project(
        self, project: ProjectRef, cursors: CursorReader, window: Window, snapshots: bool
    ) -> Iterator[Batch]:
        self._progress.update(repository=project.full_path)
        yield from self._pipelines(project, cursors, window)
        yield from self._deployments(project, cursors, window)
        yield from self._leftovers()
        yield from self._audit_batches(self._project_audit(project), cursors, window)
        if snapshots:
            yield self._snapshot(project_scope(project.id, project.scope()), cursors)

    @property
    def _held(self) -> Holding:
        """Pipelines and deployments the normalizer refused, carried by the next batch of
        the same thread (each project's scope runs in one)."""
        held: Holding | None = getattr(self._holdings, "held", None)
        if held is None:
            held = self._holdings.held = Holding("gitlab")
        return held

    def _snapshot(self, target: SnapshotScope, cursors: CursorReader) -> Batch:
        return self._snapshots.batch(target, cursors)

    def resolve(self, request: CollectRequest) -> tuple[list[ProjectRef], list[GroupRef]]:
        """Named projects, then every project of each group and its subgroups; each once."""
        projects = {p.id: p for p in map(self._project, request.repositories)}
        groups: dict[int, GroupRef] = {}
        for path in request.owners:
            root = self._group(path)
            groups[root.id] = root
            for sub in self._client.list_all(f"/groups/{root.id}/descendant_groups"):
                groups.setdefault(int(sub["id"]), GroupRef(int(sub["id"]), str(sub["full_path"])))
            listing = self._client.list_all(
                f"/groups/{root.id}/projects",
                {
                    "include_subgroups": "true",
                    "with_shared": "false",
                    "order_by": "id",
                    "sort": "asc",
                },
            )
            for item in listing:
                projects.setdefault(int(item["id"]), ProjectRef.from_api(item))
        return list(projects.values()), list(groups.values())

    def _project(self, path: str) -> ProjectRef:
        try:
            return ProjectRef.from_api(self._client.get_object(f"/projects/{encode_path(path)}"))
        except GitLabNotFound as error:
            raise GitLabNotFound(f"GitLab has no project {path!r} (404).", error.remedy) from None

    def _group(self, path: str) -> GroupRef:
        try:
            group = self._client.get_object(
                f"/groups/{encode_path(path)}", {"with_projects": "false"}
            )
        except GitLabNotFound as error:
            raise GitLabNotFound(f"GitLab has no group {path!r} (404).", error.remedy) from None
        return GroupRef(int(group["id"]), str(group["full_path"]))

    def _pipelines(
        self, project: ProjectRef, cursors: CursorReader, window: Window
    ) -> Iterator[Batch]:
        origin = Origin(self._instance, project)
        key = self._key(project.id, "pipelines")
        path = f"/projects/{project.id}/pipelines"
        for fresh, mark in self._walk(path, key, cursors, window):
            events: list[AuditEvent] = []
            for detail in self._details.complete(project, path, fresh):
                event = self._held.guard(
                    lambda d=detail: pipeline_event(origin, d),  # type: ignore[misc]
                    raw=detail,
                    endpoint=PIPELINE_ENDPOINT,
                    native_id=detail.get("id"),
                    what="pipeline",
                )
                events += [event] if event is not None else []
            yield Batch(events, {key: mark.encode()}, self._held.take())

    def _deployments(
        self, project: ProjectRef, cursors: CursorReader, window: Window
    ) -> Iterator[Batch]:
        key = self._key(project.id, "deployments")
        path = f"/projects/{project.id}/deployments"
        for fresh, mark in self._walk(path, key, cursors, window):
            events: list[AuditEvent] = []
            self._evidence.read_ahead(project, fresh)
            for deployment in fresh:
                made = self._held.guard(
                    lambda d=deployment: self._evidence.events(project, d),  # type: ignore[misc]
                    raw=deployment,
                    endpoint=DEPLOYMENT_ENDPOINT,
                    native_id=deployment.get("id"),
                    what="deployment",
                )
                events.extend(made or [])
            yield Batch(events, {key: mark.encode()}, self._held.take())

    def _walk(
        self, path: str, key: str, cursors: CursorReader, window: Window
    ) -> Iterator[tuple[list[Json], Mark]]:
        """Pages of items updated in the window, oldest first, with the cursor that
        becomes true once a page's events are stored."""
        start = start_from(Mark.decode(cursors.cursor(key)), window.since)
        if start.after is not None and start.after > window.until:
            return

        def fetch(after: datetime | None, page: int) -> list[Json]:
            self._progress.update(pages=1)
            return self._client.page(path, _time_params(after, window.until, page))

        endpoint = f"/projects/:id/{path.rsplit('/', 1)[-1]}"
        for step in walk_by_time(fetch, start, latest=window.until):
            for item, reason in step.refused:
                self._held.hold(
                    endpoint, _id_of(item), f"the listed item is unusable: {reason}", item
                )
            if step.through is not None and (step.fresh or step.refused):
                yield step.fresh, start.mark(step.through, step.ids)

    def _leftovers(self) -> Iterator[Batch]:
        """Refused items no batch carried yet (a list with nothing usable): quarantined now."""
        held = self._held.take()
        if held:
            yield Batch([], {}, held)

    def _audit_batches(
        self, source: AuditSource, cursors: CursorReader, window: Window
    ) -> Iterator[Batch]:
        return self._audit.batches(source, cursors, window.since, window.until)

    def _project_audit(self, project: ProjectRef) -> AuditSource:
        return AuditSource(
            path=f"/projects/{project.id}/audit_events",
            endpoint=PROJECT_AUDIT_ENDPOINT,
            scope=project.scope(),
            cursor_key=self._key(project.id, "audit"),
        )

    def _group_audit(self, group: GroupRef) -> AuditSource:
        return AuditSource(
            path=f"/groups/{group.id}/audit_events",
            endpoint=GROUP_AUDIT_ENDPOINT,
            scope=Scope(owner=group.full_path),
            cursor_key=f"gitlab:{self._instance}:group:{group.id}:audit",
        )

    def _key(self, project_id: int, stream: str) -> str:
        return f"gitlab:{self._instance}:project:{project_id}:{stream}"


class _Projects(ScopedCollection):
    """Groups first (alone: a group's audit events cover the projects below it), then one
    scope per project."""

    def __init__(self, collector: GitLabCollector, request: CollectRequest, now: datetime):
        self._collector = collector
        self._request = request
        self._window = Window(request.since, request.until or now)
        # Snapshots only when asked (the default), and not in a backfill that ends in the
        # past: it says nothing about who can do what today.
        self._snapshots = request.snapshots and (request.until is None or request.until >= now)
        self._projects: list[ProjectRef] = []

    def prepare(self, cursors: CursorReader) -> Iterator[Batch]:
        self._projects, groups = self._collector.resolve(self._request)
        self._collector.expect_scopes(len(groups) + len(self._projects))
        yield from self._collector.groups(groups, cursors, self._window, self._snapshots)

    def scopes(self) -> list[CollectScope]:
        return [CollectScope(p.full_path, partial(self._scope, p)) for p in self._projects]

    def _scope(self, project: ProjectRef, cursors: CursorReader) -> Iterator[Batch]:
        return self._collector.project(project, cursors, self._window, self._snapshots)


def _time_params(after: datetime | None, until: datetime, page: int) -> dict[str, str]:
    params = {"order_by": "updated_at", "sort": "asc", "updated_before": format_time(until)}
    if after is not None:
        params["updated_after"] = format_time(after)
    if page > 1:
        params["page"] = str(page)
    return params


def _id_of(item: Any) -> object:
    return item.get("id") if isinstance(item, Mapping) else None
