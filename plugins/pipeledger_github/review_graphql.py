"""The pull requests of deployed commits and their reviews, ``COMMITS_PER_QUERY`` commits per
GraphQL query, in the shapes the REST endpoints give them (``GET /commits/{sha}/pulls`` as
:func:`~pipeledger_github.evidence.compact_pull` keeps it, ``GET /pulls/{n}/reviews``).

Over REST each deployed commit costs one request and each of its pull requests one more;
here 50 commits cost one request. GitHub charges a query by the connections it may return:
50 commits x (1 + 5 pull requests) / 100 = 3 points of the 5,000 an hour.

Whatever GraphQL cannot answer exactly is left to REST, commit by commit: more than 5 pull
requests for a commit or more than 100 reviews for one, an author that is not a user, bot or
organization with a database id, a missing or wrongly typed field, or a commit GitHub does
not find (REST says why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Item = Mapping[str, Any]

COMMITS_PER_QUERY = 50
PULLS_PER_COMMIT = 5
REVIEWS_PER_PULL = 100
_ACTOR = "__typename login ... on User { databaseId } ... on Bot { databaseId }"
_ACTOR += " ... on Organization { databaseId }"
FRAGMENT = (
    "fragment Pull on PullRequest { number title state createdAt mergedAt"
    " mergeCommit { oid } headRefName headRefOid baseRefName baseRepository { nameWithOwner }"
    f" author {{ {_ACTOR} }}"
    f" reviews(first: {REVIEWS_PER_PULL}) {{ pageInfo {{ hasNextPage }} nodes {{"
    " fullDatabaseId state submittedAt authorAssociation url commit { oid }"
    f" author {{ {_ACTOR} }} }} }} }}"
)
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_ACCOUNT_TYPES = frozenset({"User", "Bot", "Organization"})
_STATES = {"OPEN": "open", "CLOSED": "closed", "MERGED": "closed"}


@dataclass
class Found:
    """What one query settled: each commit's pull requests, and each pull request's reviews."""

    pulls: dict[str, list[Item]] = field(default_factory=dict)
    reviews: dict[int, list[Item]] = field(default_factory=dict)


def is_object_id(value: Any) -> bool:
    """A full commit id, as ``object(oid:)`` takes it (and safe to write into the query)."""
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None


def commits_query(shas: Sequence[str]) -> str:
    """One aliased ``object(oid:)`` per commit, ``c0`` … ``cN``; each a full object id."""
    if not all(map(is_object_id, shas)):
        raise ValueError("a commit id to query is not a full object id")
    fields = " ".join(
        f'c{index}: object(oid: "{sha}") {{ ... on Commit {{'
        f" associatedPullRequests(first: {PULLS_PER_COMMIT}) {{"
        " pageInfo { hasNextPage } nodes { ...Pull } } } }"
        for index, sha in enumerate(shas)
    )
    return (
        "query($owner: String!, $name: String!) {"
        f" repository(owner: $owner, name: $name) {{ {fields} }} }} {FRAGMENT}"
    )


def read_answer(answer: Item | None, shas: Sequence[str]) -> Found | None:
    """The commits the answer settles; None when the whole answer is unusable (errors, no
    repository), which turns GraphQL off for the run."""
    if answer is None or answer.get("errors"):
        return None
    data = answer.get("data")
    repository = data.get("repository") if isinstance(data, Mapping) else None
    if not isinstance(repository, Mapping):
        return None
    found = Found()
    for index, sha in enumerate(shas):
        _read_commit(repository.get(f"c{index}"), sha, found)
    return found


def _read_commit(commit: Any, sha: str, found: Found) -> None:
    connection = commit.get("associatedPullRequests") if isinstance(commit, Mapping) else None
    nodes = _nodes(connection)
    if nodes is None:
        return
    pulls: list[Item] = []
    reviews: dict[int, list[Item]] = {}
    for node in nodes:
        pull = _pull(node)
        read = _reviews(node.get("reviews")) if pull is not None else None
        if pull is None or read is None:
            return
        pulls.append(pull)
        reviews[pull["number"]] = read
    found.pulls[sha] = pulls
    found.reviews.update(reviews)


def _nodes(connection: Any) -> list[Item] | None:
    """A connection's nodes when it holds them all (no next page), else None."""
    if not isinstance(connection, Mapping):
        return None
    page, nodes = connection.get("pageInfo"), connection.get("nodes")
    if not isinstance(page, Mapping) or page.get("hasNextPage") is not False:
        return None
    if not isinstance(nodes, list) or not all(isinstance(node, Mapping) for node in nodes):
        return None
    return nodes


def _pull(node: Item) -> dict[str, Any] | None:
    """A pull request as ``compact_pull`` keeps a REST one."""
    raw_state = node.get("state")
    state = _STATES.get(raw_state) if isinstance(raw_state, str) else None
    number, user = node.get("number"), _user(node)
    base_repo = node.get("baseRepository")
    texts = [node.get(key) for key in ("title", "createdAt", "headRefName", "headRefOid")]
    texts.append(node.get("baseRefName"))
    if (
        not isinstance(number, int)
        or state is None
        or user is None
        or not all(isinstance(value, str) for value in texts)
        or not isinstance(base_repo, Mapping)
        or not isinstance(base_repo.get("nameWithOwner"), str)
        or not isinstance(node.get("mergedAt"), str | None)
    ):
        return None
    merge_commit = node.get("mergeCommit")
    merge_sha = merge_commit.get("oid") if isinstance(merge_commit, Mapping) else None
    return {
        "number": number,
        "state": state,
        "merged_at": node.get("mergedAt"),
        "merge_commit_sha": merge_sha if isinstance(merge_sha, str) else None,
        "created_at": node["createdAt"],
        "title": node["title"],
        "user": user,
        "head": {"ref": node["headRefName"], "sha": node["headRefOid"]},
        "base": {"ref": node["baseRefName"], "repo": {"full_name": base_repo["nameWithOwner"]}},
    }


def _reviews(connection: Any) -> list[Item] | None:
    nodes = _nodes(connection)
    if nodes is None:
        return None
    reviews: list[Item] = []
    for node in nodes:
        review = _review(node)
        if review is None:
            return None
        reviews.append(review)
    return reviews


def _review(node: Item) -> dict[str, Any] | None:
    """A review as ``GET /pulls/{n}/reviews`` gives it (the fields review events read)."""
    ident, user = node.get("fullDatabaseId"), _user(node)
    commit = node.get("commit")
    values = [node.get(key) for key in ("state", "authorAssociation", "url")]
    if (
        not isinstance(ident, str)
        or not ident.isdigit()
        or user is None
        or not all(isinstance(value, str) for value in values)
        or not isinstance(node.get("submittedAt"), str | None)
        or not isinstance(commit, Mapping)
        or not isinstance(commit.get("oid"), str)
    ):
        return None
    review = {
        "id": int(ident),
        "user": user,
        "state": node["state"],
        "html_url": node["url"],
        "commit_id": commit["oid"],
        "author_association": node["authorAssociation"],
    }
    if node.get("submittedAt") is not None:
        review["submitted_at"] = node["submittedAt"]
    return review


def _user(node: Item) -> dict[str, Any] | None:
    """``author`` as REST's ``user``: a bot's login gains ``[bot]``, as REST shows it."""
    author = node.get("author")
    if not isinstance(author, Mapping):
        return None
    kind, login, ident = author.get("__typename"), author.get("login"), author.get("databaseId")
    if kind not in _ACCOUNT_TYPES or not isinstance(login, str) or not isinstance(ident, int):
        return None
    return {"login": f"{login}[bot]" if kind == "Bot" else login, "id": ident, "type": kind}
