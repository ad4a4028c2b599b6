"""The provenance of one deployment: everything that made it possible, joined from the ledger —
who triggered and re-ran it, who approved and when, the code review of the deployed commit,
bypasses, the protection rules in force at that moment, and recent access changes of the
people involved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeledger.deployment_ref import DeploymentRef
from pipeledger.deployment_ref import describe as describe_deployment
from pipeledger.errors import UsageError
from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.deployment_context import DeploymentContext, assemble, build_index
from pipeledger.snapshots import (
    CursorLister,
    Protection,
    Snapshot,
    history_scope_keys,
    snapshot_at,
)

DEFAULT_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class Provenance:
    context: DeploymentContext
    people: Mapping[str, tuple[str, ...]]
    gate_decisions: tuple[AuditEvent, ...] = ()
    bypasses: tuple[AuditEvent, ...] = ()
    protections: tuple[Protection, ...] = ()
    protections_observed_at: datetime | None = None
    access_changes: tuple[AuditEvent, ...] = ()
    concerns: tuple[str, ...] = field(default_factory=tuple)
    lookback: timedelta = DEFAULT_LOOKBACK
    # Each review once (the ledger keeps one copy per deployment of the reviewed commit).
    reviews: tuple[AuditEvent, ...] = ()
    # Recorded anomaly alerts about this deployment (``anomalies --record``), and the
    # acknowledgements of any of them, by alert id.
    anomalies: tuple[AuditEvent, ...] = ()
    acknowledgements: Mapping[str, AuditEvent] = field(default_factory=dict)


def find(contexts: Sequence[DeploymentContext], ident: str) -> DeploymentContext:
    """The deployment named as :class:`~pipeledger.deployment_ref.DeploymentRef` reads it:
    platform id, ``OWNER/REPO#ID``, event id, ``OWNER/REPO@SHA`` or a run/pipeline URL."""
    wanted = DeploymentRef.parse(ident)
    matches = [ctx for ctx in contexts if wanted.matches(ctx)]
    if not matches:
        raise UsageError(
            f"No deployment {ident!r} in the ledger.",
            "Name it by the platform's deployment id (`pipeledger events --kind deployment`"
            " lists them), as OWNER/REPO#ID, OWNER/REPO@SHA or the URL of its run or"
            " pipeline, and collect the repository first.",
        )
    if len(matches) > 1:
        names = ", ".join(sorted(describe_deployment(m) for m in matches))
        raise UsageError(
            f"{ident!r} names {len(matches)} deployments: {names}.", wanted.ambiguity_hint
        )
    return matches[0]


def build(
    events: Sequence[AuditEvent],
    ident: str,
    ledger: CursorLister | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> Provenance:
    context = find(assemble(build_index(events)), ident)
    people = involved(context)
    protections, observed = _protections(context, ledger)
    access = _access_changes(events, context, people, lookback)
    provenance = Provenance(
        context=context,
        people=people,
        gate_decisions=tuple(_gate_decisions(events, context)),
        bypasses=tuple(_bypasses(events, context, lookback)),
        protections=protections,
        protections_observed_at=observed,
        access_changes=tuple(access),
        lookback=lookback,
        reviews=distinct_reviews(context),
        anomalies=tuple(_anomalies(events, context)),
        acknowledgements=_acknowledgements(events),
    )
    return Provenance(**{**provenance.__dict__, "concerns": tuple(concerns(provenance))})


def _anomalies(events: Iterable[AuditEvent], context: DeploymentContext) -> list[AuditEvent]:
    deployment_id = context.deployment.correlation.get("deployment_id")
    return [
        e
        for e in events
        if e.kind is EventKind.ANOMALY
        and e.action == "raised"
        and deployment_id
        and e.correlation.get("deployment_id") == deployment_id
        and _same_repository(e, context)
    ]


def _acknowledgements(events: Iterable[AuditEvent]) -> dict[str, AuditEvent]:
    found: dict[str, AuditEvent] = {}
    for event in events:
        if event.kind is EventKind.ANOMALY and event.action == "acknowledged":
            found.setdefault(str(event.attributes.get("alert_id")), event)
    return found


def distinct_reviews(context: DeploymentContext) -> tuple[AuditEvent, ...]:
    """Each review once: a review is recorded once per deployment of the commit it vouches
    for; this deployment's own copy is kept where there is one."""
    mine = context.deployment.correlation.get("deployment_id")
    chosen: dict[tuple[object, ...], AuditEvent] = {}
    for review in context.reviews:
        target = review.target or {}
        key = (
            review.actor.login,
            review.action,
            target.get("type"),
            target.get("number"),
            review.occurred_at,
        )
        if key not in chosen or review.correlation.get("deployment_id") == mine:
            chosen[key] = review
    return tuple(sorted(chosen.values(), key=lambda e: e.occurred_at))


def involved(context: DeploymentContext) -> dict[str, tuple[str, ...]]:
    """Each person's part in the deployment, by login."""
    parts: dict[str, list[str]] = {}

    def add(login: str | None, part: str) -> None:
        if login and part not in parts.setdefault(login, []):
            parts[login].append(part)

    add(context.initial_actor, "started the run")
    add(context.triggering_actor.login if context.triggering_actor else None, "triggered")
    add(context.deployment.actor.login, "created the deployment")
    for approval in context.approvals:
        add(approval.actor.login, approval.action)
    for review in context.reviews:
        add(review.actor.login, f"reviewed ({review.action})")
        add(str((review.target or {}).get("author") or "") or None, "wrote the change")
    return {login: tuple(each) for login, each in parts.items()}


def _same_repository(event: AuditEvent, context: DeploymentContext) -> bool:
    deployment = context.deployment
    return (
        event.platform == deployment.platform
        and event.instance == deployment.instance
        and event.scope.owner == deployment.scope.owner
        and event.scope.repository in (None, deployment.scope.repository)
    )


def _gate_decisions(
    events: Iterable[AuditEvent], context: DeploymentContext
) -> Iterable[AuditEvent]:
    run_id = context.run_id
    return (
        e
        for e in events
        if e.kind is EventKind.GATE_DECISION
        and run_id is not None
        and e.correlation.get("run_id") == run_id
        and _same_repository(e, context)
    )


def _bypasses(
    events: Iterable[AuditEvent], context: DeploymentContext, lookback: timedelta
) -> Iterable[AuditEvent]:
    start, end = context.when - lookback, context.when + timedelta(hours=1)
    return (
        e
        for e in events
        if e.kind is EventKind.PROTECTION_CHANGE
        and e.action == "bypassed"
        and _same_repository(e, context)
        and start <= e.occurred_at <= end
    )


def _access_changes(
    events: Iterable[AuditEvent],
    context: DeploymentContext,
    people: Mapping[str, object],
    lookback: timedelta,
) -> list[AuditEvent]:
    """Permission changes of the people involved, and protection changes of the repository,
    in the ``lookback`` before the deployment."""
    start = context.when - lookback
    logins = {login.lower() for login in people}
    chosen = []
    for event in events:
        if not (start <= event.occurred_at <= context.when) or not _same_owner(event, context):
            continue
        target = str((event.target or {}).get("login") or "").lower()
        if (event.kind is EventKind.PERMISSION_CHANGE and target in logins) or (
            event.kind is EventKind.PROTECTION_CHANGE
            and event.action != "bypassed"
            and _same_repository(event, context)
        ):
            chosen.append(event)
    return sorted(chosen, key=lambda e: e.occurred_at)


def _same_owner(event: AuditEvent, context: DeploymentContext) -> bool:
    deployment = context.deployment
    return event.platform == deployment.platform and event.scope.owner == deployment.scope.owner


def protections_in_force(
    context: DeploymentContext, ledger: CursorLister | None
) -> tuple[tuple[Protection, ...], datetime | None]:
    """The repository's protection rules from the last snapshot before the deployment, and
    when that snapshot was taken (nothing when the ledger keeps no snapshot history)."""
    return _protections(context, ledger)


def _protections(
    context: DeploymentContext, ledger: CursorLister | None
) -> tuple[tuple[Protection, ...], datetime | None]:
    deployment = context.deployment
    if ledger is None or deployment.scope.repository is None:
        return (), None
    try:
        snapshot = _snapshot_of_repository(ledger, deployment, context.when)
    except NotImplementedError:
        return (), None  # a third-party ledger that keeps no snapshot history
    if snapshot is None:
        return (), None
    relevant = [
        rule
        for rule in snapshot.protections.values()
        if rule.target == f"environment:{context.environment}"
        or not rule.target.startswith("environment:")
    ]
    return tuple(sorted(relevant, key=lambda r: r.target)), snapshot.taken_at


def _snapshot_of_repository(
    ledger: CursorLister, deployment: AuditEvent, moment: datetime
) -> Snapshot | None:
    """The repository's snapshot in force at ``moment``. Platforms key snapshots their own
    way (``owner/name``, ``project:<id>``): try the common form, then find the scope whose
    rules and grants belong to the deployment's repository."""
    platform, instance = deployment.platform, deployment.instance
    scope = (deployment.scope.owner, deployment.scope.repository)
    common = f"{scope[0]}/{scope[1]}"
    found = snapshot_at(ledger, platform, instance, common, moment)
    if found is not None:
        return found
    for key in sorted(history_scope_keys(ledger, platform, instance) - {common}):
        candidate = snapshot_at(ledger, platform, instance, key, moment)
        if candidate is not None and _belongs_to(candidate, scope):
            return candidate
    return None


def _belongs_to(snapshot: Snapshot, scope: tuple[str, str | None]) -> bool:
    scopes = [p.scope for p in snapshot.protections.values()]
    scopes += [g.scope for g in snapshot.grants.values()]
    return any((s.owner, s.repository) == scope for s in scopes)


def concerns(provenance: Provenance) -> list[str]:
    """Plain facts an auditor would want flagged; the policy engine gives verdicts."""
    context = provenance.context
    found: list[str] = []
    trigger = context.triggering_actor.login if context.triggering_actor else None
    starters = {login for login in (trigger, context.initial_actor) if login}
    for approval in context.approvals:
        if approval.action == "approved" and approval.actor.login in starters:
            found.append(f"{approval.actor.login} approved a deployment they triggered")
        if approval.actor.login in context.change_authors:
            found.append(f"{approval.actor.login} approved the deployment of their own change")
    if not any(a.action == "approved" for a in context.approvals):
        found.append("no approval is recorded")
    if not context.reviews:
        found.append("no code review of the deployed commit is recorded")
    for change in provenance.access_changes:
        if change.kind is EventKind.PERMISSION_CHANGE and change.attributes.get("escalation"):
            who = (change.target or {}).get("login")
            found.append(
                f"{who} gained {(change.change or {}).get('to')} access"
                f" {_before(context.when, change.occurred_at)} the deployment"
            )
        if (
            change.kind is EventKind.PROTECTION_CHANGE
            and change.attributes.get("strength") == "weaker"
        ):
            found.append(
                f"{change.target and change.target.get('name')} protection was weakened"
                f" ({(change.target or {}).get('setting') or change.action})"
                f" {_before(context.when, change.occurred_at)} the deployment"
            )
    if provenance.bypasses:
        found.append(f"{len(provenance.bypasses)} protection bypass(es) around the deployment")
    return found


def _before(deployed: datetime, moment: datetime) -> str:
    hours = (deployed - moment).total_seconds() / 3600
    return f"{hours:.0f} h before" if hours >= 1 else f"{hours * 60:.0f} min before"
