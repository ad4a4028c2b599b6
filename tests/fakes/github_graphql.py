"""GitHub's GraphQL endpoint for the fake GitHub: ``POST /graphql`` executes the query with
graphql-core against GitHub's published schema (``@octokit/graphql-schema``, in
``tests/fixtures/octokit-graphql-schema/``), serving the same repositories, commits, pull
requests and reviews the REST routes serve. A query naming anything GitHub lacks gets GitHub's
kind of answer: HTTP 200 with ``errors`` and no ``data``."""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import GraphQLSchema, build_schema

from tests.fakes.github_data import FakeOrg, FakePull, FakeRepo, FakeReview, FakeUser, iso
from tests.fakes.graphql_answer import answer
from tests.paths import FIXTURES

SCHEMA_FILE = FIXTURES / "octokit-graphql-schema" / "schema.graphql"
JSON = dict[str, Any]


@cache
def schema() -> GraphQLSchema:
    """GitHub's schema, ready to validate and execute queries against. GitHub's published
    SDL breaks one rule of the specification's schema checks (it deprecates fields that
    implement interface fields which are not deprecated, e.g. ``PullRequest.databaseId``),
    which GitHub's own server does not enforce; graphql-core would refuse every query for it,
    so the schema is marked as already checked. Queries are still validated against it."""
    built = build_schema(SCHEMA_FILE.read_text("utf-8"), assume_valid_sdl=True)
    built._validation_errors = []  # graphql-core's record of a schema it has checked
    return built


def execute(org: FakeOrg, document: Any) -> JSON:
    root = {"repository": lambda _info, owner, name, **_: _repository(org, owner, name)}
    return answer(
        schema(), document, root, "A query attribute must be specified and must be a string."
    )


def _repository(org: FakeOrg, owner: str, name: str) -> JSON | None:
    repo = org.repos.get(name) if owner.lower() == org.login.lower() else None
    if repo is None:
        return None
    return {
        "nameWithOwner": f"{repo.owner}/{repo.name}",
        "object": lambda _info, oid=None, **_: _commit(repo, oid),
    }


def _commit(repo: FakeRepo, oid: str | None) -> JSON | None:
    if oid is None or oid not in repo.known_shas():
        return None
    pulls = [repo.pulls[n] for n in repo.commit_pulls.get(oid, []) if n in repo.pulls]
    return {
        "__typename": "Commit",
        "oid": oid,
        "associatedPullRequests": lambda _info, first=100, **_: _connection(
            [_pull(pull, repo) for pull in pulls], first
        ),
    }


def _pull(pull: FakePull, repo: FakeRepo) -> JSON:
    reviews = sorted(pull.reviews, key=lambda r: (r.submitted_at, r.id))
    return {
        "__typename": "PullRequest",
        "number": pull.number,
        "title": pull.title,
        "state": "MERGED" if pull.merged_at else "OPEN",
        "createdAt": iso(pull.opened_at),
        "mergedAt": iso(pull.merged_at) if pull.merged_at else None,
        "mergeCommit": {"oid": pull.merge_commit_sha} if pull.merge_commit_sha else None,
        "headRefName": pull.head_ref,
        "headRefOid": pull.head_sha,
        "baseRefName": pull.base_ref,
        "baseRepository": {"nameWithOwner": f"{repo.owner}/{repo.name}"},
        "author": render_actor(pull.author),
        "reviews": lambda _info, first=100, **_: _connection(
            [_review(review, pull, repo) for review in reviews], first
        ),
    }


def _review(review: FakeReview, pull: FakePull, repo: FakeRepo) -> JSON:
    html = f"https://github.com/{repo.owner}/{repo.name}/pull/{pull.number}"
    return {
        "fullDatabaseId": str(review.id),
        "state": review.state,
        "submittedAt": iso(review.submitted_at),
        "authorAssociation": "NONE" if review.user.type == "Bot" else "MEMBER",
        "url": f"{html}#pullrequestreview-{review.id}",
        "commit": {"oid": review.commit_id},
        "author": render_actor(review.user),
    }


def render_actor(user: FakeUser) -> JSON:
    """An ``Actor`` as GraphQL shows it: a bot's login without REST's ``[bot]``."""
    kind = user.type if user.type in ("Bot", "Organization") else "User"
    return {"__typename": kind, "login": user.login.removesuffix("[bot]"), "databaseId": user.id}


def _connection(nodes: list[JSON], first: int | None) -> JSON:
    shown = nodes if first is None else nodes[:first]
    return {"pageInfo": {"hasNextPage": len(shown) < len(nodes)}, "nodes": shown}
