"""GitLab's GraphQL endpoint for the fake GitLab: ``POST /api/graphql`` executes the query
with graphql-core against the subset of GitLab's schema in
``tests/fixtures/gitlab-graphql/schema.graphql`` (a query naming anything GitLab lacks gets
GitLab's kind of answer: ``errors`` and no ``data``). Times are whole seconds, as GitLab's
``Time`` type serializes them; users are ``UserCore`` with global IDs. A deployment's
``approvals`` are those its REST detail shows; on Free (GitLab.com's, whose schema has the
field) the list is empty, as REST's detail there has no approval fields."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from graphql import GraphQLSchema, build_schema

from tests.fakes.gitlab_data import (
    FINISHED,
    FakeApproval,
    FakeDeployment,
    FakeInstance,
    FakePipeline,
    FakeProject,
    FakeUser,
)
from tests.fakes.graphql_answer import answer
from tests.paths import FIXTURES

SCHEMA_FILE = FIXTURES / "gitlab-graphql" / "schema.graphql"
JSON = dict[str, Any]


@cache
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text("utf-8"))


def execute(
    instance: FakeInstance,
    document: Any,
    gone: Collection[int] = (),
    gone_deployments: Collection[int] = (),
    free_tier: bool = False,
) -> JSON:
    """The answer GitLab gives to a GraphQL request body (always HTTP 200); the pipelines
    whose ids are in ``gone`` and the deployments in ``gone_deployments`` were deleted."""
    deleted = _Deleted(gone, gone_deployments, free_tier)
    root = {"project": lambda _info, fullPath: _project(instance, fullPath, deleted)}
    return answer(schema(), document, root, "No query string was present")


@dataclass(frozen=True)
class _Deleted:
    """Pipelines and deployments deleted since they were listed, and whether this is Free."""

    pipelines: Collection[int]
    deployments: Collection[int]
    free_tier: bool


def _project(instance: FakeInstance, full_path: str, deleted: _Deleted) -> JSON | None:
    project = next((p for p in instance.projects if p.full_path == full_path), None)  # not an id
    if project is None:
        return None
    return {
        "id": f"gid://gitlab/Project/{project.id}",
        "fullPath": project.full_path,
        "pipeline": lambda _info, iid=None, **_: _pipeline(project, iid, deleted.pipelines),
        "deployment": lambda _info, iid: _deployment(project, iid, deleted),
    }


def _deployment(project: FakeProject, iid: str, deleted: _Deleted) -> JSON | None:
    found = next((d for d in project.deployments if str(d.iid) == iid), None)
    if found is None or found.id in deleted.deployments:
        return None
    return render_deployment_node(found, approvals=not deleted.free_tier)


def render_deployment_node(deployment: FakeDeployment, approvals: bool = True) -> JSON:
    """A ``Deployment`` as GraphQL shows it: the approvals of REST's detail, with whole-second
    times, the status as GitLab's enum (``APPROVED``) and the user as ``UserCore``."""
    return {
        "id": f"gid://gitlab/Deployment/{deployment.id}",
        "iid": str(deployment.iid),
        "approvals": [_approval(a) for a in deployment.approvals] if approvals else [],
    }


def _approval(approval: FakeApproval) -> JSON:
    return {
        "status": approval.status.upper(),
        "comment": approval.comment,
        "createdAt": seconds(approval.created_at),
        "user": render_user_core(approval.user),
    }


def _pipeline(project: FakeProject, iid: str | None, gone: Collection[int]) -> JSON | None:
    found = next((p for p in project.pipelines if str(p.iid) == iid), None)
    return None if found is None or found.id in gone else render_pipeline_node(found)


def render_pipeline_node(pipeline: FakePipeline) -> JSON:
    """A ``Pipeline`` as GraphQL shows it; the same pipeline as REST's detail shows it, but
    with whole-second times and the ref's full path instead of ``tag``."""
    finished = pipeline.status in FINISHED
    kind = "tags" if pipeline.tag else "heads"
    return {
        "id": f"gid://gitlab/Ci::Pipeline/{pipeline.id}",
        "iid": str(pipeline.iid),
        "ref": pipeline.ref,
        "refPath": pipeline.ref
        if pipeline.ref.startswith("refs/")
        else f"refs/{kind}/{pipeline.ref}",
        "source": pipeline.source,
        "createdAt": seconds(pipeline.created_at),
        "startedAt": seconds(pipeline.created_at + timedelta(seconds=5)),
        "finishedAt": seconds(pipeline.updated_at) if finished else None,
        "updatedAt": seconds(pipeline.updated_at),
        "user": render_user_core(pipeline.user),
    }


def render_user_core(user: FakeUser) -> JSON:
    return {"id": f"gid://gitlab/User/{user.id}", "username": user.username, "name": user.name}


def seconds(moment: datetime) -> str:
    """GitLab's ``Time``: ISO 8601 in UTC to the second (Ruby's ``Time#iso8601``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
