"""``dormant-account``: a person with no recorded activity (runs, deploys, approvals) for a
long time who suddenly deploys or approves. One alert per return."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pipeledger.anomalies._facts import Approval, Deploy
from pipeledger.anomalies.detectors._base import Detector, links_for, stamp, where
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, AlertSubject, Anomaly, alert_id
from pipeledger.events import full_name

# Activity just before the deploy is usually its own run: look past it.
GRACE = timedelta(days=1)


class DormantAccountDetector(Detector):
    name = "dormant-account"
    summary = "A deployer or approver inactive for weeks suddenly deploys or approves."
    default_severity = AlertSeverity.MEDIUM

    def detect(self, history: History) -> Iterator[Anomaly]:
        dormant = timedelta(days=self.settings.number("dormant_days", 60))
        for act in _acts(history):
            login, actor_type, when = _who(act)
            if not self.judging.judges(when) or self.skips(login, actor_type):
                continue
            assert login is not None
            person = (act.platform, act.instance, login.lower())
            before = history.last_active_before(person, when - GRACE)
            if before is not None and when - before >= dormant:
                yield self._alert(act, login, before, when)

    def _alert(
        self, act: Deploy | Approval, login: str, before: datetime, when: datetime
    ) -> Anomaly:
        idle = (when - before).days
        deed = f"deployed {where(act)}" if isinstance(act, Deploy) else _approved(act)
        message = (
            f"{login} {deed} at {stamp(when)} after {idle} days without any recorded activity"
            f" (last seen {stamp(before)})."
        )
        deploy = act if isinstance(act, Deploy) else act.deployment
        ids = tuple(act.event_ids) if isinstance(act, Deploy) else (act.event_id,)
        return Anomaly(
            id=alert_id(self.name, act.platform, act.instance, (login.lower(), stamp(before))),
            detector=self.name,
            severity=self.severity,
            score=min(1.0, idle / 180),
            occurred_at=when,
            platform=act.platform,
            instance=act.instance,
            owner=act.owner,
            repository=act.repository,
            environment=act.environment,
            subject=AlertSubject(
                event_ids=ids,
                deployment_id=deploy.deployment_id if deploy else None,
                run_id=deploy.run_id if deploy else None,
                pipeline_id=deploy.pipeline_id if deploy else None,
            ),
            actors=(login,),
            message=message,
            baseline={"idle_days": idle, "last_seen": stamp(before)},
            links=links_for(deploy, self.name),
        )


def _acts(history: History) -> list[Deploy | Approval]:
    acts: list[Deploy | Approval] = [*history.deploys, *history.approvals]
    acts.sort(key=lambda a: a.when)
    return acts


def _who(act: Deploy | Approval) -> tuple[str | None, str, datetime]:
    if isinstance(act, Deploy):
        return act.deployer, act.deployer_type, act.when
    return act.approver, act.approver_type, act.when


def _approved(approval: Approval) -> str:
    env = f" to {approval.environment}" if approval.environment else ""
    name = full_name(approval.owner, approval.repository)
    repo = f" of {name}" if name else ""
    return f"{approval.action} a deploy{repo}{env}"
