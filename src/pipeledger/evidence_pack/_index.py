"""The ledger's events indexed once for the pack: deployments with their context, and the
access, protection, bypass, gate and anomaly events looked up around each of them by time."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipeledger.events import AuditEvent, EventKind
from pipeledger.policy.deployment_context import DeploymentContext, assemble, build_index

ANOMALY_KIND = "anomaly"  # recorded by `pipeledger anomalies --record`
RAISED = "raised"  # an alert; "acknowledged" events answer one, by its alert_id

Place = tuple[str, str, str | None]  # platform, owner, repository


@dataclass
class Timeline:
    """Events of one place in time order, for range queries."""

    events: list[AuditEvent] = field(default_factory=list)
    _times: list[datetime] = field(default_factory=list)

    def seal(self) -> None:
        self.events.sort(key=lambda e: e.occurred_at)
        self._times = [e.occurred_at for e in self.events]

    def between(self, start: datetime, end: datetime) -> list[AuditEvent]:
        """Events with start <= occurred_at <= end."""
        low = bisect.bisect_left(self._times, start)
        high = bisect.bisect_right(self._times, end)
        return self.events[low:high]


def _place(event: AuditEvent) -> Place:
    return (event.platform, event.scope.owner, event.scope.repository)


@dataclass
class EvidenceIndex:
    contexts: list[DeploymentContext]
    # By platform, owner and the lower-cased login whose access changed.
    permission_changes: dict[tuple[str, str, str], Timeline]
    protection_changes: dict[Place, Timeline]
    bypasses: dict[Place, Timeline]
    gate_decisions: dict[tuple[Place, str], list[AuditEvent]]
    anomalies: list[AuditEvent]  # alerts raised, not their acknowledgements
    anomalies_by_link: dict[tuple[Place, str], list[AuditEvent]]
    acknowledgements: dict[str, AuditEvent]  # by the alert_id they acknowledge
    events: Sequence[AuditEvent]

    def access_of(self, platform: str, owner: str, login: str) -> Timeline:
        return self.permission_changes.get((platform, owner, login.lower())) or Timeline()

    def timeline(self, table: dict[Place, Timeline], place: Place) -> Timeline:
        return table.get(place) or Timeline()


def index_events(events: Sequence[AuditEvent]) -> EvidenceIndex:
    permissions: dict[tuple[str, str, str], Timeline] = defaultdict(Timeline)
    protections: dict[Place, Timeline] = defaultdict(Timeline)
    bypasses: dict[Place, Timeline] = defaultdict(Timeline)
    gates: dict[tuple[Place, str], list[AuditEvent]] = defaultdict(list)
    anomalies: list[AuditEvent] = []
    by_link: dict[tuple[Place, str], list[AuditEvent]] = defaultdict(list)
    acknowledgements: dict[str, AuditEvent] = {}
    for event in events:
        kind = event.kind
        if kind is EventKind.PERMISSION_CHANGE:
            login = str((event.target or {}).get("login") or "").lower()
            permissions[(event.platform, event.scope.owner, login)].events.append(event)
        elif kind is EventKind.PROTECTION_CHANGE:
            table = bypasses if event.action == "bypassed" else protections
            table[_place(event)].events.append(event)
        elif kind is EventKind.GATE_DECISION and (run := event.correlation.get("run_id")):
            gates[(_place(event), run)].append(event)
        elif kind.value == ANOMALY_KIND and event.action == RAISED:
            anomalies.append(event)
            for link in _links(event):
                by_link[(_place(event), link)].append(event)
        elif kind.value == ANOMALY_KIND:
            # The first acknowledgement stands (the recorder writes one per alert).
            acknowledgements.setdefault(str(event.attributes.get("alert_id")), event)
    for timeline in (*permissions.values(), *protections.values(), *bypasses.values()):
        timeline.seal()
    anomalies.sort(key=lambda e: e.occurred_at)
    return EvidenceIndex(
        contexts=assemble(build_index(events)),
        permission_changes=dict(permissions),
        protection_changes=dict(protections),
        bypasses=dict(bypasses),
        gate_decisions=dict(gates),
        anomalies=anomalies,
        anomalies_by_link=dict(by_link),
        acknowledgements=acknowledgements,
        events=events,
    )


def _links(event: AuditEvent) -> Iterable[str]:
    correlation = event.correlation
    if correlation.get("deployment_id"):
        yield f"deployment:{correlation['deployment_id']}"
    if correlation.get("run_id"):
        yield f"run:{correlation['run_id']}"


def deployment_place(ctx: DeploymentContext) -> Place:
    return _place(ctx.deployment)


def anomalies_of(index: EvidenceIndex, ctx: DeploymentContext) -> list[AuditEvent]:
    """Anomaly alerts that name the deployment or its run."""
    place = deployment_place(ctx)
    found: dict[str, AuditEvent] = {}
    links = [f"deployment:{ctx.deployment_key}"]
    if ctx.run_id:
        links.append(f"run:{ctx.run_id}")
    for link in links:
        for event in index.anomalies_by_link.get((place, link), []):
            found[event.id] = event
    return sorted(found.values(), key=lambda e: e.occurred_at)


def acknowledgement_of(index: EvidenceIndex, alert: AuditEvent) -> AuditEvent | None:
    return index.acknowledgements.get(str(alert.attributes.get("alert_id")))
