"""The gate's calls in rounds: every call that needs nothing from another goes out at once.

With the commit known (``GITHUB_SHA``) two round trips suffice. Round 1: the run, its
approvals, the deployments of the commit (to the environment), the commit's pull requests and
the member list of each team the policy names. Round 2: the statuses of each deployment created
since the run began and the reviews of each of those pull requests. Without the commit the run
comes first (its ``head_sha``), so three.

The answers (or the errors) are kept, and
:func:`pipeledger_github.gate_evidence.collect_evidence` then runs as it always did on a client
that serves them: the same events in the same order, the same notices, and the first error the
one-call-at-a-time order would have met. A call it makes that no round foresaw (a deployment of
another commit) simply goes to GitHub.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pipeledger.plugin import ApiClient
from pipeledger_github.client import GitHubClient, Item, Page
from pipeledger_github.normalize.fields import time_field
from pipeledger_github.repo_context import RepoContext

Key = tuple[str, ...]
T = TypeVar("T")
# At most this many requests of one round in flight (a round is rarely larger).
WORKERS = 8


@dataclass(frozen=True)
class Outcome:
    """What one call gave: its value, or the error it raised (raised again on use)."""

    value: Any = None
    error: Exception | None = None

    def get(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def in_parallel(calls: Mapping[Key, Callable[[], Any]]) -> dict[Key, Outcome]:
    """One round trip: every call at once, each on its own thread (one call runs here). All
    have finished when this returns, failed or not: no thread outlives the round."""
    if len(calls) <= 1:
        return {key: _outcome(call) for key, call in calls.items()}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(calls))) as pool:
        futures = {key: pool.submit(_outcome, call) for key, call in calls.items()}
        return {key: future.result() for key, future in futures.items()}


def _outcome(call: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(call())
    except Exception as error:  # kept, and raised where the serial order meets it
        return Outcome(error=error)


class Prefetched(GitHubClient):
    """A client that answers the gate's calls from the rounds' outcomes and sends any other
    call to GitHub. Team memberships come from the teams' member lists (which hold active
    members only); a list that could not be read falls back to the membership call."""

    def __init__(self, api: ApiClient, outcomes: Mapping[Key, Outcome]) -> None:
        super().__init__(api)
        self.outcomes = outcomes

    def _answer(self, key: Key, otherwise: Callable[[], T]) -> T:
        found = self.outcomes.get(key)
        return otherwise() if found is None else cast(T, found.get())

    def run(self, repository: str, run_id: str, etag: str | None = None) -> Page:
        if etag is not None:
            return super().run(repository, run_id, etag)
        return self._answer(
            ("run", repository, run_id), lambda: super(Prefetched, self).run(repository, run_id)
        )

    def approvals(self, repository: str, run_id: str) -> list[Item]:
        return self._answer(
            ("approvals", repository, run_id),
            lambda: super(Prefetched, self).approvals(repository, run_id),
        )

    def items(self, path: str, params: Mapping[str, str] | None = None) -> list[Item]:
        return self._answer(
            ("items", path, *_flat(params)), lambda: super(Prefetched, self).items(path, params)
        )

    def statuses(self, repository: str, deployment_id: str, etag: str | None = None) -> Page:
        if etag is not None:
            return super().statuses(repository, deployment_id, etag)
        return self._answer(
            ("statuses", repository, deployment_id),
            lambda: super(Prefetched, self).statuses(repository, deployment_id),
        )

    def commit_pulls(self, repository: str, sha: str) -> list[Item]:
        return self._answer(
            ("pulls", repository, sha),
            lambda: super(Prefetched, self).commit_pulls(repository, sha),
        )

    def reviews(self, repository: str, number: int) -> list[Item]:
        return self._answer(
            ("reviews", repository, str(number)),
            lambda: super(Prefetched, self).reviews(repository, number),
        )

    def team_membership_state(self, org: str, team: str, login: str) -> str | None:
        found = self.outcomes.get(("team", org, team))
        if found is None or found.error is not None:
            return super().team_membership_state(org, team, login)
        members: frozenset[str] = found.value
        return "active" if login.casefold() in members else None


def prefetch(
    context: RepoContext,
    run_id: str,
    sha: str | None,
    environment: str | None,
    teams: Sequence[str],
) -> Prefetched:
    """The rounds of calls the gate's evidence needs, answered in advance."""
    client, repository = context.client, context.repository
    outcomes: dict[Key, Outcome] = {}
    first: dict[Key, Callable[[], Any]] = {
        ("run", repository, run_id): lambda: client.run(repository, run_id)
    }
    if not sha:  # the run names the commit: one round more
        outcomes |= in_parallel(first)
        first = {}
        sha = _head_sha(outcomes[("run", repository, run_id)])
    first[("approvals", repository, run_id)] = lambda: client.approvals(repository, run_id)
    deployments = deployments_call(context, sha, environment)
    if deployments is not None:
        key, call = deployments
        first[key] = call
    if sha:
        commit = sha
        first[("pulls", repository, commit)] = lambda: client.commit_pulls(repository, commit)
    owner = repository.split("/", 1)[0]
    for team in teams:
        org, _, slug = team.rpartition("/")
        first[("team", org or owner, slug)] = _members_call(client, org or owner, slug)
    outcomes |= in_parallel(first)
    outcomes |= in_parallel(_second_round(context, outcomes, run_id, sha, deployments))
    return Prefetched(client.api, outcomes)


def deployments_call(
    context: RepoContext, sha: str | None, environment: str | None
) -> tuple[Key, Callable[[], list[Item]]] | None:
    """The listing ``_deployments_of_run`` makes, keyed as :class:`Prefetched` looks it up."""
    if not sha:
        return None
    params = {"sha": sha} | ({"environment": environment} if environment else {})
    path = f"{context.client.repos_path(context.repository)}/deployments"
    client = context.client
    return ("items", path, *_flat(params)), lambda: client.items(path, params)


def _second_round(
    context: RepoContext,
    outcomes: Mapping[Key, Outcome],
    run_id: str,
    sha: str | None,
    deployments: tuple[Key, Callable[[], list[Item]]] | None,
) -> dict[Key, Callable[[], Any]]:
    client, repository = context.client, context.repository
    calls: dict[Key, Callable[[], Any]] = {}
    run = outcomes.get(("run", repository, run_id))
    listed = outcomes.get(deployments[0]) if deployments else None
    if run is not None and run.error is None and listed is not None and listed.error is None:
        page: Page = run.value
        started = time_field(page.items[0], "created_at") if page.items else None
        for deployment in listed.value:
            created = time_field(deployment, "created_at")
            if started is not None and created is not None and created < started:
                continue  # as _deployments_of_run skips it
            ident = str(deployment.get("id"))
            calls[("statuses", repository, ident)] = _statuses_call(client, repository, ident)
    pulls = outcomes.get(("pulls", repository, sha or ""))
    if pulls is not None and pulls.error is None:
        for pull in pulls.value:
            number = pull.get("number")
            if isinstance(number, int):
                calls[("reviews", repository, str(number))] = _reviews_call(
                    client, repository, number
                )
    return calls


def _statuses_call(client: GitHubClient, repository: str, ident: str) -> Callable[[], Page]:
    return lambda: client.statuses(repository, ident)


def _reviews_call(client: GitHubClient, repository: str, number: int) -> Callable[[], list[Item]]:
    return lambda: client.reviews(repository, number)


def _members_call(client: GitHubClient, org: str, slug: str) -> Callable[[], frozenset[str]]:
    return lambda: frozenset(login.casefold() for login in client.team_member_logins(org, slug))


def _head_sha(run: Outcome) -> str | None:
    if run.error is not None or not run.value.items:
        return None
    head = run.value.items[0].get("head_sha")
    return head if isinstance(head, str) and head else None


def _flat(params: Mapping[str, str] | None) -> tuple[str, ...]:
    return tuple(f"{name}={value}" for name, value in sorted((params or {}).items()))
