"""Assembles what rules judge from recorded events: each deployment with its run, approvals
and code review, joined by correlation. ``check`` and ``audit`` share this one code path.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipeledger.events import Actor, AuditEvent, EventKind
from pipeledger.policy.model import Subject

CONTEXT_KINDS = (
    EventKind.PIPELINE_RUN,
    EventKind.DEPLOYMENT,
    EventKind.DEPLOYMENT_APPROVAL,
    EventKind.CHANGE_REVIEW,
)


@dataclass(frozen=True)
class DeploymentContext:
    """One deployment, evaluated once however many status events it has."""

    deployment: AuditEvent
    when: datetime
    environment: str | None
    repository: str | None
    ref: str | None
    sha: str | None
    run: AuditEvent | None
    approvals: tuple[AuditEvent, ...]
    reviews: tuple[AuditEvent, ...]
    statuses: tuple[AuditEvent, ...] = ()
    pending: bool = False

    @property
    def deployment_key(self) -> str:
        if self.pending:
            # The gate's deployment does not exist yet: name it by run, attempt, environment.
            return f"pending:{self.deployment.source.native_id}"
        return self.deployment.correlation.get("deployment_id") or self.deployment.id

    @property
    def run_id(self) -> str | None:
        return self.deployment.correlation.get("run_id")

    @property
    def triggering_actor(self) -> Actor | None:
        """Who started this attempt (the re-runner, for a re-run)."""
        return self.run.actor if self.run is not None else None

    @property
    def initial_actor(self) -> str | None:
        """Who started the run's first attempt."""
        if self.run is None:
            return None
        initial = self.run.attributes.get("initial_actor")
        return str(initial) if initial else None

    @property
    def deployer(self) -> Actor:
        """The person answerable for the deploy: the run's triggering actor when the run is
        known (the deployment's own creator is often the CI's app), else the creator."""
        return self.triggering_actor or self.deployment.actor

    @property
    def change_authors(self) -> frozenset[str]:
        """Authors of the pull requests that brought the deployed commit."""
        return frozenset(
            str(author).lower()
            for review in self.reviews
            if (author := (review.target or {}).get("author"))
        )

    @property
    def subject(self) -> Subject:
        link = self.deployment.links.get("html") or (
            self.run.links.get("html") if self.run else None
        )
        return Subject(
            kind="deployment",
            key=self.deployment_key,
            repository=self.repository,
            environment=interned(self.environment),
            ref=interned(self.ref),
            sha=self.sha,
            run_id=self.run_id,
            url=link,
        )

    def evidence_ids(self) -> list[str]:
        ids = [] if self.pending else [self.deployment.id]
        if self.run is not None:
            ids.append(self.run.id)
        return ids


def interned(name: str | None) -> str | None:
    """Interned: each event parsed brings its own copy of names such as ``production`` or
    ``refs/heads/main``, and a finding's subject would keep that copy alive."""
    return sys.intern(name) if name is not None else None


def repository_of(event: AuditEvent) -> str | None:
    # Interned: every deployment and finding of a repository shares one string.
    return interned(event.scope.full_name)


# (owner, repository, id): ids such as run ids are unique only within a repository.
Key = tuple[str, str | None, str]
Table = dict[Key, list[AuditEvent]]


def _key(event: AuditEvent, value: str) -> Key:
    return (event.scope.owner, event.scope.repository, value)


def _table() -> Table:
    return defaultdict(list)


@dataclass
class EventIndex:
    """Context events by the keys deployments are joined on."""

    runs: Table = field(default_factory=_table)
    approvals: Table = field(default_factory=_table)
    reviews_by_link: Table = field(default_factory=_table)
    reviews_by_pull: Table = field(default_factory=_table)
    deployments: Table = field(default_factory=_table)
    # When set, context that happened before it is not joined (the streaming audit's
    # look-back window; see pipeledger.policy.stream).
    since: datetime | None = None

    def find(self, table: Table, key: Key) -> list[AuditEvent]:
        """The events filed under ``key``, in the order added."""
        found = table.get(key, [])
        if self.since is None:
            return found
        since = self.since
        return [event for event in found if event.occurred_at >= since]

    def add(self, event: AuditEvent) -> None:
        for table, key in self.places(event):
            table[key].append(event)

    def places(self, event: AuditEvent) -> list[tuple[Table, Key]]:
        """Every (table, key) the event is filed under."""
        kind = event.kind
        if kind is EventKind.DEPLOYMENT:
            key = event.correlation.get("deployment_id") or event.id
            return [(self.deployments, _key(event, key))]
        if kind is EventKind.PIPELINE_RUN or kind is EventKind.DEPLOYMENT_APPROVAL:
            table = self.runs if kind is EventKind.PIPELINE_RUN else self.approvals
            run_id = event.correlation.get("run_id")
            return [(table, _key(event, run_id))] if run_id else []
        if kind is EventKind.CHANGE_REVIEW:
            found = [(self.reviews_by_link, _key(event, link)) for link in _review_links(event)]
            pull = event.correlation.get("pull_request")
            if pull:
                found.append((self.reviews_by_pull, _key(event, pull)))
            return found
        return []


def _review_links(event: AuditEvent) -> set[str]:
    """The deployments and commits a review vouches for."""
    target = event.target or {}
    links = {
        f"deployment:{event.correlation['deployment_id']}"
        if event.correlation.get("deployment_id")
        else "",
        f"sha:{event.sha}" if event.sha else "",
        f"sha:{target['merge_commit_sha']}" if target.get("merge_commit_sha") else "",
    }
    links.discard("")
    return links


def build_index(events: Iterable[AuditEvent]) -> EventIndex:
    index = EventIndex()
    for event in events:
        index.add(event)
    return index


def assemble(index: EventIndex) -> list[DeploymentContext]:
    """Every deployment in the index, once, in time order."""
    contexts = [deployment_context(group, index) for group in index.deployments.values()]
    contexts.sort(key=lambda ctx: (ctx.when, ctx.deployment_key))
    return contexts


def deployment_context(
    group: Sequence[AuditEvent], index: EventIndex, *, pending: bool = False
) -> DeploymentContext:
    """One deployment from its status events (in chain order), joined with ``index``."""
    ordered = sorted(group, key=lambda e: (e.action != "created", e.occurred_at))
    head = ordered[0]
    environment = next((e.scope.environment for e in ordered if e.scope.environment), None)
    run = _run_for(head, index)
    sha = head.sha or (run.sha if run else None)
    return DeploymentContext(
        deployment=head,
        when=head.occurred_at,
        environment=environment,
        repository=repository_of(head),
        ref=_deployed_ref(head, run),
        sha=sha,
        run=run,
        approvals=_approvals_for(head, environment, index),
        reviews=_reviews_for(head, sha, index),
        statuses=tuple(ordered),
        pending=pending,
    )


def _deployed_ref(deployment: AuditEvent, run: AuditEvent | None) -> str | None:
    """Prefer a full ref (``refs/heads/main``): deployments often record only ``main``."""
    for candidate in (deployment.ref, run.ref if run else None):
        if candidate and candidate.startswith("refs/"):
            return candidate
    return deployment.ref or (run.ref if run else None)


def _run_for(deployment: AuditEvent, index: EventIndex) -> AuditEvent | None:
    run_id = deployment.correlation.get("run_id")
    if not run_id:
        return None
    attempts = index.find(index.runs, _key(deployment, run_id))
    wanted = deployment.correlation.get("run_attempt")
    if wanted:
        attempts = [e for e in attempts if e.correlation.get("run_attempt") in (wanted, None)]
    if not attempts:
        return None
    return max(attempts, key=lambda e: (_attempt_number(e), e.occurred_at))


def _attempt_number(event: AuditEvent) -> int:
    text = event.correlation.get("run_attempt") or "1"
    return int(text) if text.isdigit() else 1


def _approvals_for(
    deployment: AuditEvent, environment: str | None, index: EventIndex
) -> tuple[AuditEvent, ...]:
    run_id = deployment.correlation.get("run_id")
    if not run_id:
        return ()
    attempt = deployment.correlation.get("run_attempt")
    env = (environment or "").lower()
    return tuple(
        sorted(
            (
                e
                for e in index.find(index.approvals, _key(deployment, run_id))
                if (e.scope.environment is None or e.scope.environment.lower() == env)
                and (attempt is None or e.correlation.get("run_attempt") in (attempt, None))
            ),
            key=lambda e: e.occurred_at,
        )
    )


def _reviews_for(
    deployment: AuditEvent, sha: str | None, index: EventIndex
) -> tuple[AuditEvent, ...]:
    links = [f"sha:{sha}"] if sha else []
    if deployment.correlation.get("deployment_id"):
        links.append(f"deployment:{deployment.correlation['deployment_id']}")
    found: dict[str, AuditEvent] = {}
    for link in links:
        for review in index.find(index.reviews_by_link, _key(deployment, link)):
            found[review.id] = review
            pull = review.correlation.get("pull_request")
            # Reviews name the commit they saw, not the merge commit: take the whole PR.
            for sibling in (
                index.find(index.reviews_by_pull, _key(deployment, pull)) if pull else []
            ):
                found[sibling.id] = sibling
    return tuple(sorted(found.values(), key=lambda e: e.occurred_at))


def deployment_contexts(events: Iterable[AuditEvent]) -> list[DeploymentContext]:
    return assemble(build_index(events))


def pending_context(events: Sequence[AuditEvent], synthetic: AuditEvent) -> DeploymentContext:
    """The deployment the gate is about to allow, joined like any recorded one."""
    index = build_index(e for e in events if e.kind is not EventKind.DEPLOYMENT)
    return deployment_context([synthetic], index, pending=True)


def team_members_lower(teams: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    return {team: frozenset(login.lower() for login in members) for team, members in teams.items()}
