"""Deployment approvals over GitLab's GraphQL API: the query is valid against GitLab's
published schema and within its complexity limit, the ledger is the same event for event as
over REST at a fraction of the requests, and any answer that is not what was asked, or no
GraphQL at all, leaves the deployments to REST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate

from pipeledger.events import EventKind
from pipeledger.http.client import RetryPolicy
from pipeledger_gitlab.client import Credentials, GitLabClient
from pipeledger_gitlab.deployment_details import BATCH, DeploymentDetails, deployments_query
from pipeledger_gitlab.normalize.pipelines import ProjectRef
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_graphql import render_deployment_node, schema
from tests.fakes.gitlab_graphql_cost import MAX_COMPLEXITY, query_complexity
from tests.fakes.gitlab_render import render_deployment
from tests.plugins.pipeledger_gitlab.helpers import (
    collect,
    ledger_events,
    requests_under_hostile_graphql,
)

pytestmark = pytest.mark.e2e


def test_the_query_is_valid_against_gitlabs_schema() -> None:
    assert validate(schema(), parse(deployments_query(list(range(1, BATCH + 1))))) == []
    # The schema fixture is what refuses: a field Deployment lacks, or iid not an ID.
    wrong_field = deployments_query([7]).replace("createdAt", "approvedAt")
    assert validate(schema(), parse(wrong_field)) != []
    assert validate(schema(), parse(deployments_query([7]).replace('"7"', "[7]"))) != []


def test_a_full_batch_stays_within_gitlabs_complexity_limit() -> None:
    query = deployments_query(list(range(1, BATCH + 1)))
    assert len(query) < 10_000  # GitLab's query size limit
    score = query_complexity(query)
    assert score == 1 + BATCH * 10
    assert score <= MAX_COMPLEXITY - 50  # room for arguments GitLab may charge


def test_graphql_and_rest_store_the_same_approvals_with_fewer_requests(
    fake: FakeGitLab, tmp_path: Path
) -> None:
    before = fake.counts()
    assert collect(fake, tmp_path / "graphql.db", "--group", "acme").code == 0
    over_graphql = fake.counts() - before
    fake.graphql = False
    before = fake.counts()
    assert collect(fake, tmp_path / "rest.db", "--group", "acme").code == 0
    over_rest = fake.counts() - before
    events = ledger_events(tmp_path / "graphql.db")
    assert events == ledger_events(tmp_path / "rest.db")
    approvals = [e for e in events if e.kind is EventKind.DEPLOYMENT_APPROVAL]
    expected = sum(len(d.approvals) for p in fake.instance.projects for d in p.deployments)
    assert len(approvals) == expected > 0
    assert all(e.occurred_at.microsecond == 0 for e in approvals)  # to the second, both ways
    projects = fake.instance.projects
    deployments = sum(len(p.deployments) for p in projects)
    assert (over_graphql["projects.deployment"], over_rest["projects.deployment"]) == (
        0,
        deployments,
    )
    # Pipeline details' queries plus one per project's page of deployments (each < BATCH).
    assert all(len(p.deployments) <= BATCH for p in projects)
    pipeline_queries = sum(-(-len(p.pipelines) // 20) for p in projects)
    assert over_graphql["graphql"] == pipeline_queries + len(projects)


@pytest.mark.parametrize(
    "answer",
    [
        {"errors": [{"message": "Field 'approvals' doesn't exist on type 'Deployment'"}]},
        {"data": {"project": None}},
        {"data": {"project": {}}},
        {"data": None, "errors": [{"message": "Query has complexity of 301"}]},
        "<html>502 Bad Gateway</html>",
    ],
    ids=["no-approvals-field", "no-project", "missing-fields", "too-complex", "html"],
)
def test_an_answer_that_is_not_what_was_asked_falls_back_to_rest(
    fake: FakeGitLab, tmp_path: Path, answer: Any
) -> None:
    asked = requests_under_hostile_graphql(fake, tmp_path, answer)
    deployments = sum(len(p.deployments) for p in fake.instance.projects)
    assert asked["projects.deployment"] == deployments


class _Client:
    """GitLabClient's two GraphQL members, answering one canned answer."""

    def __init__(self, answer: Any, speaks: bool = True) -> None:
        self.answer, self.speaks_graphql = answer, speaks
        self.asked: list[str] = []

    @property
    def queries(self) -> int:
        return len(self.asked)

    def graphql(self, query: str, variables: dict[str, Any]) -> Any:
        self.asked.append(query)
        assert validate(schema(), parse(query)) == []
        return self.answer


def _one_deployment(fake: FakeGitLab) -> tuple[ProjectRef, Any, dict[str, Any]]:
    project = fake.instance.projects[0]
    deployment = next(d for d in project.deployments if len(d.approvals) == 2)
    listed = render_deployment(deployment, project, detail=False, approvals=False)
    return ProjectRef(project.id, project.full_path), deployment, listed


def test_an_answer_is_read_into_rests_shape(fake: FakeGitLab) -> None:
    ref, deployment, listed = _one_deployment(fake)
    client = _Client({"data": {"project": {"d0": render_deployment_node(deployment)}}})
    read = DeploymentDetails(client).read(ref, [listed])  # type: ignore[arg-type]
    approvals = read[deployment.id]["approvals"]  # type: ignore[index]
    assert [(a["user"]["id"], a["status"]) for a in approvals] == [
        (a.user.id, a.status) for a in deployment.approvals
    ]
    first = deployment.approvals[0]
    assert approvals[0] == {
        "user": {"id": first.user.id, "username": first.user.username, "name": first.user.name},
        "status": first.status,
        "created_at": first.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "comment": first.comment,
    }
    assert read[deployment.id] == {**listed, "approvals": approvals}


def _broken(node: dict[str, Any], approval: dict[str, Any]) -> dict[str, Any]:
    return {**node, "approvals": [{**node["approvals"][0], **approval}]}


@pytest.mark.parametrize(
    "change",
    [
        lambda n: {**n, "iid": "999999"},
        lambda n: {**n, "approvals": None},
        lambda n: {**n, "approvals": "none"},
        lambda n: _broken(n, {"status": "PENDING"}),
        lambda n: _broken(n, {"createdAt": 5}),
        lambda n: _broken(n, {"createdAt": None}),
        lambda n: _broken(n, {"comment": ["x"]}),
        lambda n: _broken(
            n, {"user": {"id": "gid://gitlab/Group/1", "username": "x", "name": "x"}}
        ),
        lambda n: {**n, "approvals": ["approved"]},
    ],
    ids=[
        "wrong-deployment",
        "null-approvals",
        "approvals-not-a-list",
        "unknown-status",
        "time-not-a-string",
        "no-time",
        "comment-not-a-string",
        "user-not-a-user",
        "approval-not-an-object",
    ],
)
def test_a_malformed_node_leaves_its_batch_to_rest(fake: FakeGitLab, change: Any) -> None:
    ref, deployment, listed = _one_deployment(fake)
    node = change(render_deployment_node(deployment))
    details = DeploymentDetails(_Client({"data": {"project": {"d0": node}}}))  # type: ignore[arg-type]
    assert details.read(ref, [listed]) == {}
    assert details.on  # one odd answer does not switch GraphQL off


def test_a_failed_query_switches_graphql_off_for_the_run(fake: FakeGitLab) -> None:
    ref, _deployment, listed = _one_deployment(fake)
    client = _Client({"errors": [{"message": "Field 'approvals' doesn't exist"}]})
    details = DeploymentDetails(client)  # type: ignore[arg-type]
    assert details.read(ref, [listed]) == {}
    assert details.read(ref, [listed]) == {}
    assert (client.queries, details.on) == (1, False)


def test_a_deleted_deployment_is_none_and_not_asked_again(fake: FakeGitLab) -> None:
    ref, deployment, listed = _one_deployment(fake)
    read = DeploymentDetails(_Client({"data": {"project": {"d0": None}}})).read(ref, [listed])  # type: ignore[arg-type]
    assert read == {deployment.id: None}


def test_a_job_token_or_a_root_elsewhere_stays_on_rest(fake: FakeGitLab) -> None:
    ref, _deployment, listed = _one_deployment(fake)
    client = _Client({"data": {}}, speaks=False)
    assert DeploymentDetails(client).read(ref, [listed]) == {}  # type: ignore[arg-type]
    assert client.queries == 0
    job = Credentials("CI_JOB_TOKEN", "JOB-TOKEN", "job-secret")
    gitlab = GitLabClient("https://gitlab.example.com/api/v4", job, RetryPolicy())
    assert not DeploymentDetails(gitlab).on


def test_a_page_is_asked_in_batches_and_each_batch_falls_back_alone(fake: FakeGitLab) -> None:
    ref, _deployment, listed = _one_deployment(fake)
    page = [{**listed, "id": index, "iid": index} for index in range(1, 2 * BATCH + 2)]
    client = _Client({"data": {"project": {}}})  # every field missing: each batch to REST
    assert DeploymentDetails(client).read(ref, page) == {}  # type: ignore[arg-type]
    assert [query.count(": deployment(") for query in client.asked] == [BATCH, BATCH, 1]
