"""A deployment's provenance: the environment approvals of the run that made it and the
reviews of the pull request that brought the deployed commit, each fetched once per collection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeledger.plugin import AuditEvent
from pipeledger_github.errors import NotFound, Unprocessable
from pipeledger_github.normalize.pipelines import approval_events, review_events
from pipeledger_github.repo_context import RepoContext
from pipeledger_github.review_graphql import (
    COMMITS_PER_QUERY,
    commits_query,
    is_object_id,
    read_answer,
)

Item = Mapping[str, Any]
PULL_FIELDS = (
    "number", "state", "merged_at", "merge_commit_sha", "url", "repository_url", "created_at",
    "title",
)  # fmt: skip


class Provenance:
    def __init__(self, context: RepoContext) -> None:
        self.ctx = context
        self._approvals_done: set[str] = set()
        self._pulls: dict[str, list[Item]] = {}
        self._reviews: dict[int, list[Item]] = {}
        self._graphql = context.client.speaks_graphql

    def approvals(
        self, run: Item, deployments: Sequence[Item], *, again: bool = False
    ) -> list[AuditEvent]:
        """One ``/approvals`` call per run per collection (``again`` after its deployments
        changed, as approvals arrive while a deployment waits)."""
        run_id = str(run.get("id"))
        if run_id in self._approvals_done and not again:
            return []
        self._approvals_done.add(run_id)
        try:
            approvals = self.ctx.client.approvals(self.ctx.repository, run_id)
        except NotFound:
            self.ctx.oddities.note(f"run {run_id} is gone; its approvals cannot be read.")
            return []
        return self.ctx.normalized(
            lambda: approval_events(
                approvals,
                run,
                deployments,
                self.ctx.instance,
                repository=self.ctx.repository,
                oddities=self.ctx.oddities,
                refs=self.ctx.refs(),
            ),
            "approval list",
            {"run": run_id, "approvals": approvals},
            "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals",
            run_id,
        )

    def prefetch(self, shas: Iterable[Any]) -> None:
        """Read the pull requests and reviews of these deployed commits with GraphQL, 50
        commits a request, so ``reviews`` finds them read; what GraphQL does not settle is
        read over REST when ``reviews`` asks for it."""
        wanted = [
            sha for sha in dict.fromkeys(shas) if is_object_id(sha) and sha not in self._pulls
        ]
        owner, _, name = self.ctx.repository.partition("/")
        for start in range(0, len(wanted), COMMITS_PER_QUERY):
            if not self._graphql:
                return
            batch = wanted[start : start + COMMITS_PER_QUERY]
            answer = self.ctx.client.graphql(commits_query(batch), {"owner": owner, "name": name})
            found = read_answer(answer, batch)
            if found is None:
                self._graphql = False  # every later query would fail alike
                return
            self._pulls.update(found.pulls)
            for number, reviews in found.reviews.items():
                self._reviews.setdefault(number, reviews)

    def reviews(self, deployment: Item) -> list[AuditEvent]:
        """Reviews of every pull request that contains the deployed commit, merged or not: an
        open pull request's head deployed from its branch is evidence too."""
        sha = deployment.get("sha")
        if not isinstance(sha, str) or not sha:
            return []
        events: list[AuditEvent] = []
        for pull in self._pulls_with(sha):
            number = pull.get("number")
            if not isinstance(number, int):
                continue
            events += self._review_events(pull, self._reviews_of(number), deployment)
        return events

    def _review_events(self, pull: Item, reviews: list[Item], deployment: Item) -> list[AuditEvent]:
        return self.ctx.normalized(
            lambda: review_events(
                pull,
                reviews,
                deployment,
                self.ctx.instance,
                repository=self.ctx.repository,
                oddities=self.ctx.oddities,
            ),
            "pull request",
            {"pull_request": pull, "reviews": reviews},
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
            str(pull.get("number")),
        )

    def _pulls_with(self, sha: str) -> list[Item]:
        if sha not in self._pulls:
            try:
                pulls = self.ctx.client.commit_pulls(self.ctx.repository, sha)
            except (NotFound, Unprocessable):
                self.ctx.oddities.note(
                    f"deployed commit {sha[:12]} is no longer in the repository; the review"
                    " of its pull request cannot be read."
                )
                pulls = []
            self._pulls[sha] = [compact_pull(pull) for pull in pulls]
        return self._pulls[sha]

    def _reviews_of(self, number: int) -> list[Item]:
        if number not in self._reviews:
            try:
                self._reviews[number] = self.ctx.client.reviews(self.ctx.repository, number)
            except NotFound:
                self.ctx.oddities.note(f"pull request #{number} is gone; its reviews are skipped.")
                self._reviews[number] = []
        return self._reviews[number]


def compact_pull(pull: Item) -> dict[str, Any]:
    """The fields review events take from a pull request. A listed pull request carries both
    repositories in full (about 40 kB decoded); one is kept per deployed commit until the
    repository is done, so a long history would otherwise hold them all."""
    compact = {key: pull[key] for key in PULL_FIELDS if key in pull}
    user = pull.get("user")
    if isinstance(user, Mapping):
        compact["user"] = {key: user[key] for key in ("login", "id", "type") if key in user}
    head = pull.get("head")
    if isinstance(head, Mapping):
        compact["head"] = {"ref": head.get("ref"), "sha": head.get("sha")}
    base = pull.get("base")
    if isinstance(base, Mapping):
        repo = base.get("repo")
        compact["base"] = {"ref": base.get("ref")}
        if isinstance(repo, Mapping):
            compact["base"]["repo"] = {k: repo[k] for k in ("full_name", "url") if k in repo}
    return compact
