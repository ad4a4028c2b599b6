"""Pipeline details over GitLab's GraphQL API: the query is valid against GitLab's published
schema and within its complexity limit, the ledger is the same event for event as over REST,
and any answer that is not what was asked falls back to REST for that batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate

from pipeledger.http.client import RetryPolicy
from pipeledger_gitlab.client import Credentials, GitLabClient, graphql_root
from pipeledger_gitlab.deployment_details import BATCH as DEPLOYMENT_BATCH
from pipeledger_gitlab.pipeline_details import BATCH, pipelines_query
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.gitlab_graphql import schema
from tests.fakes.gitlab_graphql_cost import MAX_COMPLEXITY, query_complexity
from tests.plugins.pipeledger_gitlab.helpers import (
    collect,
    ledger_events,
    requests_under_hostile_graphql,
)

pytestmark = pytest.mark.e2e


def test_the_query_is_valid_against_gitlabs_schema() -> None:
    document = parse(pipelines_query(list(range(1, BATCH + 1))))
    assert validate(schema(), document) == []
    assert validate(schema(), parse(pipelines_query([7]).replace("refPath", "tagged"))) != []


def test_a_full_batch_stays_within_gitlabs_complexity_limit() -> None:
    query = pipelines_query(list(range(1, BATCH + 1)))
    assert len(query) < 10_000  # GitLab's query size limit
    score = query_complexity(query)
    assert score == 1 + BATCH * 9
    assert score <= MAX_COMPLEXITY - 50  # room for arguments GitLab may charge


def test_graphql_and_rest_store_the_same_events(fake: FakeGitLab, tmp_path: Path) -> None:
    assert collect(fake, tmp_path / "graphql.db", "--group", "acme").code == 0
    over_graphql = fake.counts()
    fake.graphql = False
    assert collect(fake, tmp_path / "rest.db", "--group", "acme").code == 0
    over_rest = fake.counts() - over_graphql
    assert ledger_events(tmp_path / "graphql.db") == ledger_events(tmp_path / "rest.db")
    pipelines = sum(len(p.pipelines) for p in fake.instance.projects)
    deployments = sum(len(p.deployments) for p in fake.instance.projects)
    assert (over_graphql["projects.pipeline"], over_rest["projects.pipeline"]) == (0, pipelines)
    projects = len(fake.instance.projects)
    most = pipelines / BATCH + deployments / DEPLOYMENT_BATCH + 2 * projects
    assert 0 < over_graphql["graphql"] <= most
    # The 404 that says there is no GraphQL, met once by pipeline details and once by
    # deployment details (each switches itself off): by the first project's batch, or by
    # each of the projects collected at once before that answer came back.
    assert 2 <= over_rest["graphql"] <= 2 * len(fake.instance.projects)


@pytest.mark.parametrize(
    "answer",
    [
        {"errors": [{"message": "Field 'refPath' doesn't exist on type 'Pipeline'"}]},
        {"data": {"project": None}},
        {"data": None, "errors": [{"message": "Query has complexity of 301"}]},
        {"data": {"project": {"p0": {"iid": "999999"}}}},
        {"data": {"project": {"p0": {"iid": "1", "startedAt": 5, "user": None}}}},
        ["not", "an", "object"],
        "<html>502 Bad Gateway</html>",
    ],
    ids=["errors", "no-project", "too-complex", "wrong-pipeline", "wrong-type", "list", "html"],
)
def test_an_answer_that_is_not_what_was_asked_falls_back_to_rest(
    fake: FakeGitLab, tmp_path: Path, answer: Any
) -> None:
    asked = requests_under_hostile_graphql(fake, tmp_path, answer)
    pipelines = sum(len(p.pipelines) for p in fake.instance.projects)
    assert asked["projects.pipeline"] == pipelines


def test_a_user_that_is_not_a_gitlab_user_id_falls_back(fake: FakeGitLab, tmp_path: Path) -> None:
    project = fake.instance.projects[0]
    first = project.pipelines[0]
    node = {
        "iid": str(first.iid),
        "startedAt": None,
        "finishedAt": None,
        "refPath": "refs/heads/main",
        "user": {"id": "gid://gitlab/Group/1", "username": "x", "name": "x"},
    }
    fake.graphql_answer = {"data": {"project": {"p0": node}}}
    assert collect(fake, tmp_path / "l.db", "--project", project.full_path).code == 0
    assert fake.counts()["projects.pipeline"] == len(project.pipelines)


def test_a_job_token_or_a_root_elsewhere_stays_on_rest() -> None:
    assert graphql_root("https://gitlab.example.com/api/v4") == "https://gitlab.example.com/api"
    assert graphql_root("https://gitlab.example.com/gitlab/api/v4/") == (
        "https://gitlab.example.com/gitlab/api"
    )
    assert graphql_root("https://proxy.example.com/gitlab-rest") is None
    job = Credentials("CI_JOB_TOKEN", "JOB-TOKEN", "job-secret")
    personal = Credentials("GITLAB_TOKEN", "Authorization", "Bearer secret")
    url = "https://gitlab.example.com/api/v4"
    assert not GitLabClient(url, job, RetryPolicy()).speaks_graphql
    assert GitLabClient(url, personal, RetryPolicy()).speaks_graphql
    assert not GitLabClient("https://proxy.example.com/x", personal, RetryPolicy()).speaks_graphql


@pytest.mark.parametrize("status", [429, 502, 503])
def test_a_refused_or_failed_query_is_asked_again_and_loses_nothing(
    fake: FakeGitLab, tmp_path: Path, status: int
) -> None:
    """GraphQL is retried and rate-limited like a GET: the same events, nothing twice, and
    each failed query asked again rather than read over REST."""
    before = fake.counts()
    assert collect(fake, tmp_path / "clean.db", "--group", "acme").code == 0
    queries = (fake.counts() - before)["graphql"]
    fake.fail_next(2, status, "/api/graphql", retry_after="0")
    before = fake.counts()
    run = collect(fake, tmp_path / "l.db", "--group", "acme", "--backoff", "0.01")
    assert run.code == 0, run.err
    assert ledger_events(tmp_path / "l.db") == ledger_events(tmp_path / "clean.db")
    made = fake.counts() - before
    assert (made["graphql"], made["projects.pipeline"]) == (queries + 2, 0)
