"""Review provenance over GitHub's GraphQL API: the query is valid against GitHub's published
schema (``@octokit/graphql-schema``) and cheap by GitHub's rate-limit formula, the ledger is
the same as over REST, and whatever GraphQL does not answer exactly is read over REST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate

from pipeledger.http.client import ApiClient
from pipeledger.sinks.contract import EventFilter
from pipeledger_github.client import RATE_HEADERS, graphql_api
from pipeledger_github.errors import translate_error
from pipeledger_github.review_graphql import COMMITS_PER_QUERY, commits_query
from pipeledger_sqlite.sink import SqliteSink
from tests.e2e.github_expect import collected, expected, github_collect_argv, run_cli
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import generate_org
from tests.fakes.github_graphql import schema
from tests.fakes.github_graphql_cost import query_cost

pytestmark = pytest.mark.e2e
TOKEN = "ghp_graphql_reviews_token"
SHA = "a" * 40


def test_the_query_is_valid_against_githubs_schema() -> None:
    shas = [f"{index:040x}" for index in range(COMMITS_PER_QUERY)]
    assert validate(schema(), parse(commits_query(shas))) == []
    assert validate(schema(), parse(commits_query([SHA]).replace("headRefOid", "headSha"))) != []


def test_a_full_query_costs_three_points() -> None:
    """GitHub's formula (tests/fakes/github_graphql_cost.py): 50 commits x (1 pull request
    list + 5 review lists) / 100, through the aliased objects, the inline fragment and the
    named fragment the query uses; a short query costs the least, one point."""
    shas = [f"{index:040x}" for index in range(COMMITS_PER_QUERY)]
    names = {"owner": "o", "name": "r"}
    assert query_cost(schema(), commits_query(shas), names) == 3
    assert query_cost(schema(), commits_query(shas[:10]), names) == 1


def _collect(server: FakeGitHubServer, db: Path) -> None:
    code, _, err = run_cli(
        github_collect_argv(server.base_url, db, "--no-snapshots"), {"GITHUB_TOKEN": TOKEN}
    )
    assert code == 0, err


def _events(db: Path) -> dict[str, dict[str, Any]]:
    """Every stored event, whole, by id."""
    sink = SqliteSink(db)
    try:
        return {r.event.id: r.event.to_dict() for r in sink.records(EventFilter())}
    finally:
        sink.close()


@pytest.fixture
def org() -> Any:
    return generate_org("acme", repos=3, runs_per_repo=60, deploy_fraction=0.3, seed=4)


def test_graphql_and_rest_store_the_same_events(org: Any, tmp_path: Path) -> None:
    pulls, reviews = r"/commits/[^/]+/pulls$", r"/reviews$"
    with FakeGitHubServer(org, token=TOKEN) as server:  # one server: one instance in the ids
        _collect(server, tmp_path / "graphql.db")
        graphql = (server.count(pulls), server.count(reviews))
        queries = server.count(r"^/graphql$")
        points = server.stats()["graphql_points"]  # what GitHub would charge them
        server.graphql = False
        _collect(server, tmp_path / "rest.db")
        rest = (server.count(pulls) - graphql[0], server.count(reviews) - graphql[1])
    assert collected(tmp_path / "graphql.db") == collected(tmp_path / "rest.db") == expected(org)
    assert _events(tmp_path / "graphql.db") == _events(tmp_path / "rest.db")  # every field
    assert graphql == (0, 0) and rest[0] > 0 and rest[1] > 0
    assert 0 < queries <= sum(rest) / 10
    assert queries <= points <= 3 * queries  # 1 to 3 points a query, as computed above


NO_AUTHOR = {
    "pageInfo": {"hasNextPage": False},
    "nodes": [{"number": 1, "state": "MERGED", "author": None}],
}


@pytest.mark.parametrize(
    "answer",
    [
        {"errors": [{"message": "Field 'headSha' doesn't exist on type 'PullRequest'"}]},
        {"data": {"repository": None}},
        {"data": {"repository": {"c0": {"associatedPullRequests": {"nodes": []}}}}},
        {"data": {"repository": {"c0": {"associatedPullRequests": NO_AUTHOR}}}},
        ["not", "an", "object"],
    ],
    ids=["errors", "no-repository", "no-page-info", "no-author", "list"],
)
def test_an_answer_that_is_not_what_was_asked_is_read_over_rest(
    org: Any, tmp_path: Path, answer: Any
) -> None:
    with FakeGitHubServer(org, token=TOKEN) as server:
        server.graphql_answer = answer
        _collect(server, tmp_path / "l.db")
        assert server.count(r"/commits/[^/]+/pulls$") > 0
        server.graphql = False
        _collect(server, tmp_path / "rest.db")
    assert collected(tmp_path / "l.db") == expected(org)
    assert _events(tmp_path / "l.db") == _events(tmp_path / "rest.db")


@pytest.mark.parametrize(
    ("api_url", "graphql_root"),
    [
        ("https://api.github.com", "https://api.github.com"),
        ("https://github.example.com/api/v3", "https://github.example.com/api"),
        ("https://proxy.example.com/github", None),
    ],
)
def test_graphql_goes_beside_the_rest_root_on_the_same_host(
    api_url: str, graphql_root: str | None
) -> None:
    rest = ApiClient(
        api_url,
        {"Authorization": "Bearer t"},
        rate_headers=RATE_HEADERS,
        translate_error=translate_error,
    )
    found = graphql_api(rest)
    assert (found.base_url if found else None) == graphql_root
    assert found is not rest  # GitHub counts GraphQL in a pool of its own


@pytest.mark.parametrize("status", [502, 503])
def test_a_failed_query_is_asked_again_and_loses_nothing(
    org: Any, tmp_path: Path, status: int
) -> None:
    with FakeGitHubServer(org, token=TOKEN) as server:
        _collect(server, tmp_path / "clean.db")
        queries = server.count(r"^/graphql$")
        server.fail_path(r"^/graphql$", times=2, status=status)
        _collect(server, tmp_path / "l.db")
        assert server.count(r"^/graphql$") - queries == queries + 2
        assert server.count(r"/commits/[^/]+/pulls$") == 0
    assert _events(tmp_path / "l.db") == _events(tmp_path / "clean.db")
