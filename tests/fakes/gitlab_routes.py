"""What the fake GitLab answers, route by route: GitLab's filters and orderings over the
model, rendered as GitLab's documentation examples. Standard library only."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tests.fakes import gitlab_render as render
from tests.fakes import gitlab_render_access as render_access
from tests.fakes.gitlab_data import FakeAuditEvent, FakeGroup, FakeJob, FakeProject, FakeUser

if TYPE_CHECKING:
    from tests.fakes.gitlab_api import FakeGitLab

JSON = dict[str, Any]


class HttpError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Listing:
    """A list answer: model objects, how to render one, and the keyset key if allowed."""

    items: list[Any]
    render: Callable[[Any], JSON]
    keyset: Callable[[Any], int] | None = None


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _window(items: list[Any], query: dict[str, str], attr: str, prefix: str) -> list[Any]:
    if query.get(f"{prefix}_after"):
        after = _parse(query[f"{prefix}_after"])
        items = [i for i in items if getattr(i, attr) >= after]
    if query.get(f"{prefix}_before"):
        before = _parse(query[f"{prefix}_before"])
        items = [i for i in items if getattr(i, attr) <= before]
    return items


def _order(
    items: list[Any], query: dict[str, str], default_sort: str, keys: dict[str, str]
) -> list[Any]:
    attr = keys.get(query.get("order_by", "id"), "id")
    return sorted(
        items,
        key=lambda i: (getattr(i, attr), i.id),
        reverse=query.get("sort", default_sort) == "desc",
    )


def _project(fake: FakeGitLab, key: str) -> FakeProject:
    project = fake.instance.project(unquote(key))
    if project is None:
        raise HttpError(404, {"message": "404 Project Not Found"})
    return project


def _group(fake: FakeGitLab, key: str) -> FakeGroup:
    group = fake.instance.group(unquote(key))
    if group is None:
        raise HttpError(404, {"message": "404 Group Not Found"})
    return group


def get_project(fake: FakeGitLab, key: str, query: dict[str, str]) -> JSON:
    return render.render_project(_project(fake, key), full=True)


def list_pipelines(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    items = _window(list(project.pipelines), query, "updated_at", "updated")
    for name in ("status", "ref"):
        if query.get(name):
            items = [p for p in items if getattr(p, name) == query[name]]
    items = _order(
        items,
        query,
        "desc",
        {"id": "id", "updated_at": "updated_at", "status": "status", "ref": "ref"},
    )
    return Listing(items, lambda p: render.render_pipeline(p, project, detail=False))


def get_pipeline(fake: FakeGitLab, key: str, pipeline_id: str, query: dict[str, str]) -> JSON:
    project = _project(fake, key)
    pipeline = next((p for p in project.pipelines if p.id == int(pipeline_id)), None)
    if pipeline is None:
        raise HttpError(404, {"message": "404 Not found"})
    return render.render_pipeline(pipeline, project, detail=True)


def list_deployments(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    if (query.get("updated_after") or query.get("updated_before")) and query.get(
        "order_by"
    ) != "updated_at":
        raise HttpError(400, {"message": "`updated_at` filter requires `updated_at` sort"})
    items = _window(list(project.deployments), query, "updated_at", "updated")
    for name in ("environment", "status"):
        if query.get(name):
            items = [d for d in items if getattr(d, name) == query[name]]
    items = _order(
        items,
        query,
        "asc",
        {"id": "id", "iid": "iid", "created_at": "created_at", "updated_at": "updated_at"},
    )
    return Listing(
        items, lambda d: render.render_deployment(d, project, detail=False, approvals=False)
    )


def get_deployment(fake: FakeGitLab, key: str, deployment_id: str, query: dict[str, str]) -> JSON:
    project = _project(fake, key)
    deployment = next((d for d in project.deployments if d.id == int(deployment_id)), None)
    if deployment is None:
        raise HttpError(404, {"message": "404 Not found"})
    approvals = not fake.free_tier
    if fake.approval_fields_only_if_protected:
        protected = {environment.name for environment in project.protected_environments}
        approvals = approvals and deployment.environment in protected
    return render.render_deployment(deployment, project, detail=True, approvals=approvals)


def commit_merge_requests(fake: FakeGitLab, key: str, sha: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    if sha not in project.known_shas():
        raise HttpError(404, {"message": "404 Commit Not Found"})
    items = [m for m in project.merge_requests if m.merge_commit_sha == sha]
    return Listing(items, lambda m: render.render_merge_request(m, project))


def merge_request_approvals(fake: FakeGitLab, key: str, iid: str, query: dict[str, str]) -> JSON:
    project = _project(fake, key)
    mr = next((m for m in project.merge_requests if m.iid == int(iid)), None)
    if mr is None:
        raise HttpError(404, {"message": "404 Not found"})
    return render.render_mr_approvals(mr)


def project_audit_events(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    return _audit(fake, project.audit_events, query, "Project", project.id, project.full_path)


def group_audit_events(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    group = _group(fake, key)
    return _audit(fake, group.audit_events, query, "Group", group.id, group.full_path)


def _audit(
    fake: FakeGitLab,
    events: list[FakeAuditEvent],
    query: dict[str, str],
    entity_type: str,
    entity_id: int,
    entity_path: str,
) -> Listing:
    if fake.free_tier:
        raise HttpError(403, {"message": "403 Forbidden"})
    items = _order(
        _window(list(events), query, "created_at", "created"), query, "desc", {"id": "id"}
    )
    return Listing(
        items,
        lambda e: render.render_audit_event(e, entity_type, entity_id, entity_path),
        keyset=lambda e: e.id,
    )


def get_group(fake: FakeGitLab, key: str, query: dict[str, str]) -> JSON:
    return render.render_group(_group(fake, key))


def group_projects(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    group = _group(fake, key)
    scope = {group.id}
    if query.get("include_subgroups") == "true":
        scope |= {g.id for g in fake.instance.descendants(group)}
    items = [p for p in fake.instance.projects if p.group.id in scope]
    items = _order(items, query, "desc", {"id": "id", "created_at": "id", "path": "path"})
    return Listing(items, render.render_project)


def descendant_groups(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    return Listing(fake.instance.descendants(_group(fake, key)), render.render_group)


def group_members_all(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    group = _group(fake, key)
    return _members_all([group.members, *(g.members for g in fake.instance.ancestors(group))])


def project_members_all(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    chain = [project.group, *fake.instance.ancestors(project.group)]
    return _members_all([project.members, *(g.members for g in chain)])


def _members_all(levels: list[list[tuple[FakeUser, int]]]) -> Listing:
    """Direct and inherited members; a user in several places once, with the highest
    access level, as GitLab's /members/all answers."""
    members: dict[int, tuple[FakeUser, int]] = {}
    for memberships in levels:
        for user, level in memberships:
            if user.id not in members or members[user.id][1] < level:
                members[user.id] = (user, level)
    items = sorted(members.values(), key=lambda pair: pair[0].id)
    return Listing(items, lambda pair: render.render_member(*pair))


def protected_environments(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    if fake.free_tier:
        # A Premium API: GitLab Free (CE) has no such route.
        raise HttpError(404, {"error": "404 Not Found"})
    return Listing(list(project.protected_environments), render_access.render_protected_environment)


def protected_branches(fake: FakeGitLab, key: str, query: dict[str, str]) -> Listing:
    project = _project(fake, key)
    return Listing(list(project.protected_branches), render_access.render_protected_branch)


def get_job(fake: FakeGitLab, query: dict[str, str]) -> JSON:
    if fake.job_token_job is None:
        raise HttpError(404, {"message": "404 Job Not Found"})
    project, job = fake.job_token_job
    return render.render_job(job if isinstance(job, FakeJob) else job.job, project)


def get_user(fake: FakeGitLab, ident: str, query: dict[str, str]) -> JSON:
    user = fake.instance.user(int(ident))
    if user is None:
        raise HttpError(404, {"message": "404 User Not Found"})
    return render.render_user_full(user)


ROUTES: tuple[tuple[str, re.Pattern[str], Callable[..., Any]], ...] = tuple(
    (name, re.compile(pattern), handler)
    for name, pattern, handler in (
        ("projects.get", r"^/projects/([^/]+)$", get_project),
        ("projects.pipelines", r"^/projects/([^/]+)/pipelines$", list_pipelines),
        ("projects.pipeline", r"^/projects/([^/]+)/pipelines/(\d+)$", get_pipeline),
        ("projects.deployments", r"^/projects/([^/]+)/deployments$", list_deployments),
        ("projects.deployment", r"^/projects/([^/]+)/deployments/(\d+)$", get_deployment),
        (
            "projects.commit_merge_requests",
            r"^/projects/([^/]+)/repository/commits/([0-9a-f]+)/merge_requests$",
            commit_merge_requests,
        ),
        (
            "projects.merge_request_approvals",
            r"^/projects/([^/]+)/merge_requests/(\d+)/approvals$",
            merge_request_approvals,
        ),
        ("projects.audit_events", r"^/projects/([^/]+)/audit_events$", project_audit_events),
        ("projects.members_all", r"^/projects/([^/]+)/members/all$", project_members_all),
        (
            "projects.protected_environments",
            r"^/projects/([^/]+)/protected_environments$",
            protected_environments,
        ),
        (
            "projects.protected_branches",
            r"^/projects/([^/]+)/protected_branches$",
            protected_branches,
        ),
        ("groups.get", r"^/groups/([^/]+)$", get_group),
        ("groups.projects", r"^/groups/([^/]+)/projects$", group_projects),
        ("groups.descendant_groups", r"^/groups/([^/]+)/descendant_groups$", descendant_groups),
        ("groups.audit_events", r"^/groups/([^/]+)/audit_events$", group_audit_events),
        ("groups.members_all", r"^/groups/([^/]+)/members/all$", group_members_all),
        ("users.get", r"^/users/(\d+)$", get_user),
        ("job", r"^/job$", get_job),
    )
)
# What GitLab lets CI_JOB_TOKEN reach among these (its deployments API).
JOB_TOKEN_ROUTES = frozenset({"projects.deployments", "projects.deployment", "job"})
# Only a job token can ask which job it belongs to.
JOB_TOKEN_ONLY = frozenset({"job"})


def route(path: str) -> tuple[str, Callable[..., Any] | None, tuple[str, ...]]:
    for name, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match:
            return name, handler, match.groups()
    return "unknown", None, ()
