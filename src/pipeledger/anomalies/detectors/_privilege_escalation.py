"""``privilege-escalation``: someone is given a powerful role (by default one its platform's
access terms rank as powerful: maintain or maintainer and above) or a place among an
environment's required reviewers with no linked change, and deploys or
approves within hours. The grant's time is the audit log's when there is one, otherwise the
window between the two snapshots that saw it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeledger.anomalies._access import REVIEWER_ROLE
from pipeledger.anomalies._facts import AccessChange, Approval, Deploy
from pipeledger.anomalies.detectors._base import (
    Detector,
    clock,
    duration,
    links_for,
    stamp,
    where,
)
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, AlertSubject, Anomaly, alert_id
from pipeledger.events import full_name
from pipeledger.registry import load_access_terms


@dataclass(frozen=True)
class _Act:
    """A deploy or an approval by the grantee."""

    when: datetime
    deploy: Deploy | None
    approval: Approval | None

    @property
    def login(self) -> str | None:
        if self.deploy is not None:
            return self.deploy.deployer
        return self.approval.approver if self.approval else None


class PrivilegeEscalationDetector(Detector):
    name = "privilege-escalation"
    summary = "A powerful grant with no linked change, used within hours by the grantee."
    default_severity = AlertSeverity.HIGH

    def detect(self, history: History) -> Iterator[Anomaly]:
        chosen = self.settings.params.get("roles")
        roles = frozenset(self.settings.words("roles", ())) if chosen is not None else None
        within = timedelta(hours=self.settings.number("within_hours", 24))
        # Only the deploys and approvals of people granted something are looked at.
        grantees = {g.seat_holder() for g in history.access if g.kind == "grant"} - {None}
        acts = _acts_by_person(history, grantees) if grantees else {}
        revoked: set[tuple[str | None, ...]] = set()
        for grant in history.access:
            if grant.kind == "revoke":
                revoked.add(_seat(grant))
            if grant.kind != "grant" or not _powerful(grant, roles) or grant.linked_change:
                continue
            if grant.seat_holder() is None:
                continue
            if (grant.grantee and self.skips(grant.grantee)) or _seat(grant) in revoked:
                # A reviewer put back where a protection toggle removed them is no new power.
                continue
            act = _first_act(acts, grant, within)
            if act is not None and self.judging.judges(act.when) and not self.skips(act.login):
                yield self._alert(grant, act, within)

    def _alert(self, grant: AccessChange, act: _Act, within: timedelta) -> Anomaly:
        window = grant.window
        if window.exact:
            when = f"at {stamp(window.latest)}"
            gap = f"{duration(act.when - window.latest)} later"
        else:
            when = (
                f"between {stamp(window.earliest)} and {stamp(window.latest)} (seen by"
                " comparing snapshots)"
            )
            gap = f"at {clock(act.when)}, within {duration(within)} of that window"
        deed = _deed(act)
        place = full_name(grant.owner, grant.repository) or grant.owner
        grantee = grant.grantee or f"{act.login} (user {grant.grantee_id})"
        message = (
            f"{grantee} was given {grant.role} on {place} {when} with no linked change,"
            f" and {deed} {gap}."
        )
        deploy = act.deploy or (act.approval.deployment if act.approval else None)
        actors = [a for a in (grant.grantee or act.login, grant.actor) if a]
        return Anomaly(
            id=alert_id(self.name, grant.platform, grant.instance, (grant.event_id,)),
            detector=self.name,
            severity=self.severity,
            score=1.0 if window.exact else 0.8,
            occurred_at=act.when,
            platform=grant.platform,
            instance=grant.instance,
            owner=grant.owner,
            repository=deploy.repository if deploy else grant.repository,
            environment=_approval_env(act) or (deploy.environment if deploy else None),
            subject=AlertSubject(
                event_ids=(grant.event_id, *_act_ids(act)),
                deployment_id=deploy.deployment_id if deploy else None,
                run_id=deploy.run_id if deploy else None,
                pipeline_id=deploy.pipeline_id if deploy else None,
            ),
            actors=tuple(dict.fromkeys(actors)),
            message=message,
            baseline={
                "role": grant.role,
                "granted_by": grant.actor,
                "grant_window": [stamp(window.earliest), stamp(window.latest)],
                "within_hours": within.total_seconds() / 3600,
            },
            links={**links_for(deploy, self.name), **_grant_link(grant)},
        )


def _seat(change: AccessChange) -> tuple[str | None, ...]:
    holder = change.seat_holder()
    return (change.platform, change.owner, change.repository, change.target_name, holder)


def _acts_by_person(
    history: History, grantees: set[str | None]
) -> dict[tuple[str, str, str], list[_Act]]:
    """The grantees' deploys and approvals in time order, under their login and, where the
    events give it, under ``#`` and their platform id too."""
    acts: dict[tuple[str, str, str], list[_Act]] = {}

    def add(act: _Act, platform: str, instance: str, login: str, ident: str | None) -> None:
        for holder in (login.lower(), f"#{ident}" if ident else None):
            if holder is not None and holder in grantees:
                acts.setdefault((platform, instance, holder), []).append(act)

    for deploy in history.deploys:
        if deploy.deployer:
            act = _Act(deploy.when, deploy, None)
            add(act, deploy.platform, deploy.instance, deploy.deployer, deploy.deployer_id)
    for approval in history.approvals:
        act = _Act(approval.when, None, approval)
        add(act, approval.platform, approval.instance, approval.approver, approval.approver_id)
    for items in acts.values():
        items.sort(key=lambda a: a.when)
    return acts


def _first_act(
    acts: dict[tuple[str, str, str], list[_Act]], grant: AccessChange, within: timedelta
) -> _Act | None:
    holder = grant.seat_holder()
    assert holder is not None
    items = acts.get((grant.platform, grant.instance, holder), [])
    start = bisect_left([a.when for a in items], grant.window.earliest)
    for act in items[start:]:
        if act.when > grant.window.latest + within:
            return None
        if _same_place(act, grant):
            return act
    return None


def _same_place(act: _Act, grant: AccessChange) -> bool:
    owner = act.deploy.owner if act.deploy else act.approval.owner if act.approval else None
    repository = (
        act.deploy.repository if act.deploy else act.approval.repository if act.approval else None
    )
    return owner == grant.owner and grant.repository in (None, repository)


def _deed(act: _Act) -> str:
    if act.deploy is not None:
        return f"deployed {where(act.deploy)}"
    assert act.approval is not None
    env = f" to {act.approval.environment}" if act.approval.environment else ""
    return f"approved a deploy{env}"


def _approval_env(act: _Act) -> str | None:
    return act.approval.environment if act.approval else None


def _act_ids(act: _Act) -> tuple[str, ...]:
    if act.deploy is not None:
        return tuple(act.deploy.event_ids)
    return (act.approval.event_id,) if act.approval else ()


def _grant_link(grant: AccessChange) -> dict[str, str]:
    link = grant.links.get("html")
    return {"grant": link} if link else {}


def _powerful(grant: AccessChange, roles: frozenset[str] | None) -> bool:
    """The roles the policy names (``roles``), else a required reviewer's place or a role
    the platform's access terms rank as powerful."""
    if roles is not None:
        return grant.role in roles
    return grant.role == REVIEWER_ROLE or load_access_terms(grant.platform).is_powerful(grant.role)
