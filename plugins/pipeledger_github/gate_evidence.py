"""Evidence for the GitHub Actions job that is running now: its run, the deployments it made,
their approvals and the reviews of the deployed commit, fetched in a handful of calls and
normalized exactly as ``collect`` would record them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from pipeledger.plugin import (
    Actor,
    ActorType,
    AuditEvent,
    CiJob,
    EventKind,
    GateEvidence,
    MalformedResponse,
    UsageError,
)
from pipeledger_github.evidence import Provenance
from pipeledger_github.gate_rounds import prefetch
from pipeledger_github.normalize.fields import NO_REFS, RefNames, time_field
from pipeledger_github.normalize.pipelines import deployment_run_id
from pipeledger_github.repo_context import RepoContext

Item = Mapping[str, Any]
CI_VARIABLES = ("GITHUB_RUN_ID", "GITHUB_REPOSITORY")
_REF_TYPES = {"branch": "refs/heads/", "tag": "refs/tags/"}
_REF_PREFIXES = tuple(_REF_TYPES.values())


def job_identity(environ: Mapping[str, str]) -> tuple[str, str, str | None]:
    """(repository, run id, commit) of the running job, from the Actions variables."""
    missing = [name for name in CI_VARIABLES if not environ.get(name)]
    if missing:
        raise UsageError(
            f"Not inside a GitHub Actions job: {', '.join(missing)} not set.",
            "Run `pipeledger check` as a step of the deploy job, or use `pipeledger audit` to"
            " evaluate recorded history.",
        )
    return environ["GITHUB_REPOSITORY"], environ["GITHUB_RUN_ID"], environ.get("GITHUB_SHA")


def ci_job(environ: Mapping[str, str], instance: str) -> CiJob | None:
    """The job as the Actions variables describe it; None outside a job."""
    if any(not environ.get(name) for name in CI_VARIABLES):
        return None
    owner, _, name = environ["GITHUB_REPOSITORY"].partition("/")
    login = environ.get("GITHUB_TRIGGERING_ACTOR") or environ.get("GITHUB_ACTOR") or None
    kind = ActorType.BOT if login and login.endswith("[bot]") else ActorType.USER
    return CiJob(
        platform="github",
        instance=instance,
        owner=owner,
        repository=name or None,
        run_id=environ["GITHUB_RUN_ID"],
        run_attempt=environ.get("GITHUB_RUN_ATTEMPT"),
        actor=Actor(login=login, id=environ.get("GITHUB_ACTOR_ID"), type=kind),
        ref=environ.get("GITHUB_REF"),
        sha=environ.get("GITHUB_SHA"),
    )


def job_refs(environ: Mapping[str, str]) -> RefNames:
    """The running job's ref, which is certain: GitHub names a tag push's run and deployments
    by the tag's bare name, and ``GITHUB_REF`` (or ``GITHUB_REF_TYPE``) says it is a tag."""
    ref = environ.get("GITHUB_REF") or ""
    name = environ.get("GITHUB_REF_NAME") or ""
    if not ref.startswith(_REF_PREFIXES):
        kind = _REF_TYPES.get(environ.get("GITHUB_REF_TYPE") or "")
        if kind is None or not name:
            return NO_REFS  # a pull request's merge ref: the run names the head branch
        ref = kind + name
    short = ref.split("/", 2)[2]
    return RefNames(certain={short: ref} | ({name: ref} if name else {}))


def collect_evidence(
    context: RepoContext, run_id: str, sha: str | None, environment: str | None
) -> list[AuditEvent]:
    """The run (1 call), its approvals (1), its deployments (1 + 1 per deployment), the pull
    requests of the commit (1) and their reviews (1 per merged pull request)."""
    page = context.client.run(context.repository, run_id)
    if not page.items:
        raise MalformedResponse(f"GitHub returned no body for run {run_id}.")
    run = page.items[0]
    events = context.run_events(run)
    commit = sha or _text(run.get("head_sha"))
    made = _deployments_of_run(context, run, run_id, commit, environment)
    provenance = Provenance(context)
    events += provenance.approvals(run, [deployment for deployment, _ in made])
    for deployment, statuses in made:
        events += context.deployment_events(deployment, statuses)
        events += provenance.reviews(deployment)
    if not made and commit:
        events += provenance.reviews({"sha": commit})
    return events


def _deployments_of_run(
    context: RepoContext,
    run: Item,
    run_id: str,
    sha: str | None,
    environment: str | None,
) -> list[tuple[Item, list[Item]]]:
    """Deployments of the commit (to the environment) created since the run began whose
    statuses point at this run."""
    if not sha:
        return []
    params = {"sha": sha} | ({"environment": environment} if environment else {})
    path = f"{context.client.repos_path(context.repository)}/deployments"
    started = time_field(run, "created_at")
    made = []
    for deployment in context.client.items(path, params):
        created = time_field(deployment, "created_at")
        if started is not None and created is not None and created < started:
            continue
        statuses = context.client.statuses(context.repository, str(deployment.get("id"))).items
        if deployment_run_id(statuses) == run_id:
            made.append((deployment, statuses))
    return made


def team_members(
    context: RepoContext, teams: Sequence[str], events: Sequence[AuditEvent]
) -> dict[str, frozenset[str]]:
    """For each team the policy names (``slug`` or ``org/slug``), which of the people in the
    evidence are active members: one membership call per (team, person)."""
    people = sorted(
        {
            event.actor.login
            for event in events
            if event.actor.login
            and event.kind in (EventKind.DEPLOYMENT_APPROVAL, EventKind.CHANGE_REVIEW)
        }
    )
    owner = context.repository.split("/", 1)[0]
    members: dict[str, frozenset[str]] = {}
    for team in teams:
        org, _, slug = team.rpartition("/")
        found = {
            login
            for login in people
            if context.client.team_membership_state(org or owner, slug, login) == "active"
        }
        members[team] = frozenset(found)
    return members


def evidence(
    context: RepoContext,
    run_id: str,
    sha: str | None,
    environment: str | None,
    teams: Sequence[str],
) -> GateEvidence:
    """The evidence in two round trips when the commit is known (three when not): the calls
    go out in rounds (:mod:`pipeledger_github.gate_rounds`) and the evidence is then made, one
    call at a time as ever, from their answers."""
    answered = replace(context, client=prefetch(context, run_id, sha, environment, teams))
    events = collect_evidence(answered, run_id, sha, environment)
    answered.flush_notices()
    return GateEvidence(
        run_id=run_id,
        environment=environment,
        events=events,
        team_members=team_members(answered, teams, events),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
