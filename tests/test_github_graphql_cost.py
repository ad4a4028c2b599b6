"""The fake GitHub charges GraphQL queries as GitHub documents it
(tests/fakes/github_graphql_cost.py)."""

from __future__ import annotations

from tests.fakes.github_graphql import schema
from tests.fakes.github_graphql_cost import query_cost

# GitHub's own example ("Calculating a rate limit score before running the call"): 1 request
# for the repositories, 100 for their issues, 5,000 for the issues' labels = 5,101 -> 51.
GITHUB_EXAMPLE = """
query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id
        issues(first: 50) {
          edges { node { id
            labels(first: 60) { edges { node { id name } } }
          } }
        }
      } }
    }
  }
}
"""


def test_githubs_documented_example_scores_51() -> None:
    assert query_cost(schema(), GITHUB_EXAMPLE) == 51


def test_page_sizes_given_as_variables_count_too() -> None:
    query = GITHUB_EXAMPLE.replace("first: 100", "first: $n").replace(
        "query {", "query($n: Int!) {"
    )
    assert query_cost(schema(), query, {"n": 10}) == 5  # (1 + 10 + 500) / 100


def test_a_query_without_connections_costs_one_point() -> None:
    assert query_cost(schema(), "query { viewer { login } }") == 1
