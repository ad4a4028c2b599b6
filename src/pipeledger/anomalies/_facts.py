"""What the detectors judge, projected from ledger events: deployments (with who really
deployed and who approved), approvals, access changes, and when each person was last active.

One change can reach the ledger twice (an audit log and a snapshot difference); a later event
then supersedes the earlier ones. :func:`visible_events` is the one place that drops them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pipeledger.events import AuditEvent, full_name
from pipeledger.facts import without_superseded


def visible_events(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The access-change events that stand: superseded ones are left out. Only access
    changes carry ``supersedes``, and the superseding event has the time of the change, so
    the read window holds both."""
    return without_superseded(events)


@dataclass(slots=True)
class Approval:
    when: datetime
    approver: str
    approver_type: str
    action: str
    environment: str | None
    event_id: str
    platform: str
    instance: str
    owner: str
    repository: str | None
    # False when the platform gave no approval time and the event carries the deployment's
    # or the run's instead (GitHub's REST backfill: ``attributes.occurred_at_source``).
    timed: bool = True
    approver_id: str | None = None
    # The deployment it was given for, once joined by run.
    deployment: Deploy | None = None


@dataclass(slots=True)
class Deploy:
    """One deployment, however many status events it has."""

    when: datetime
    platform: str
    instance: str
    owner: str
    repository: str
    environment: str | None
    deployment_id: str
    run_id: str | None
    pipeline_id: str | None
    run_attempt: str | None
    deployer: str | None
    deployer_type: str
    ref: str | None
    event_ids: list[str]
    links: dict[str, str]
    approvals: list[Approval] = field(default_factory=list)
    # The platform's id of the deployer, where the event gives one.
    deployer_id: str | None = None

    @property
    def repository_name(self) -> str:
        return full_name(self.owner, self.repository) or self.owner

    @property
    def place(self) -> tuple[str, str, str, str, str]:
        """Where its baseline is kept: the repository's environment on one instance."""
        return (self.platform, self.instance, self.owner, self.repository, self.environment or "")

    @property
    def html_link(self) -> str | None:
        return self.links.get("html") or self.links.get("run")


@dataclass(frozen=True, slots=True)
class Window:
    """When a change happened: one moment from an audit log, or the interval between two
    snapshots when only their difference saw it."""

    earliest: datetime
    latest: datetime

    @property
    def exact(self) -> bool:
        return self.earliest == self.latest


@dataclass(frozen=True, slots=True)
class AccessChange:
    """A grant of power to someone (or its removal), or protection weakened or restored."""

    kind: str  # "grant", "revoke", "weaken" or "restore"
    window: Window
    platform: str
    instance: str
    owner: str
    repository: str | None
    environment: str | None
    target_type: str | None
    target_name: str | None
    setting: str | None
    grantee: str | None
    role: str | None
    linked_change: str | None
    actor: str | None
    event_id: str
    links: Mapping[str, str]
    description: str
    # Who, by the platform's user id, when the change names nobody by login (a GitLab
    # approval rule names its user by id).
    grantee_id: str | None = None

    def seat_holder(self) -> str | None:
        """The grantee as :func:`person_key` spells people: a login, or ``#`` and an id."""
        if self.grantee:
            return self.grantee.lower()
        return f"#{self.grantee_id}" if self.grantee_id else None
