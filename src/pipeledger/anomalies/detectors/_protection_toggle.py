"""``protection-toggle``: environment or branch protection weakened before a deploy and
restored after it — switched off for one deploy, so the protection looks intact in any
later snapshot."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from datetime import timedelta
from fnmatch import fnmatchcase

from pipeledger.anomalies._facts import AccessChange, Deploy
from pipeledger.anomalies.detectors._base import Detector, duration, links_for, stamp, where
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, AlertSubject, Anomaly, alert_id


class ProtectionToggleDetector(Detector):
    name = "protection-toggle"
    summary = "Protection weakened before a deploy and restored after it."
    default_severity = AlertSeverity.HIGH

    def detect(self, history: History) -> Iterator[Anomaly]:
        within = timedelta(hours=self.settings.number("within_hours", 24))
        changes = history.access
        times = [d.when for d in history.deploys]
        for index, weak in enumerate(changes):
            if weak.kind != "weaken":
                continue
            restore = _restore_of(weak, changes[index + 1 :], within)
            if restore is None:
                continue
            around = history.deploys[
                bisect_left(times, weak.window.earliest) : bisect_right(
                    times, restore.window.latest
                )
            ]
            deploys = [d for d in around if _guards(weak, d)]
            if deploys and self.judging.judges(deploys[0].when):
                yield self._alert(weak, restore, deploys)

    def _alert(self, weak: AccessChange, restore: AccessChange, deploys: list[Deploy]) -> Anomaly:
        # The deploy by whoever toggled the protection, if any, is the one the toggle was for.
        togglers = {(a or "").lower() for a in (weak.actor, restore.actor)} - {""}
        first = next((d for d in deploys if (d.deployer or "").lower() in togglers), deploys[0])
        certain = weak.window.latest <= first.when <= restore.window.earliest
        who = weak.actor or "someone (seen by comparing snapshots)"
        others = f" ({len(deploys) - 1} other deploys too)" if len(deploys) > 1 else ""
        message = (
            f"The {weak.description.removesuffix(' weakened')} was weakened by {who} at"
            f" {stamp(weak.window.latest)}, {first.deployer or 'someone'} deployed {where(first)}"
            f" at {stamp(first.when)}{others}, and it was restored at"
            f" {stamp(restore.window.earliest)},"
            f" {duration(restore.window.earliest - first.when)} later."
        )
        people = [p for p in (first.deployer, weak.actor, restore.actor) if p]
        ids = [weak.event_id, *(i for d in deploys for i in d.event_ids), restore.event_id]
        return Anomaly(
            id=alert_id(self.name, weak.platform, weak.instance, (weak.event_id, restore.event_id)),
            detector=self.name,
            severity=self.severity,
            score=1.0 if certain else 0.7,
            occurred_at=first.when,
            platform=first.platform,
            instance=first.instance,
            owner=first.owner,
            repository=first.repository,
            environment=first.environment,
            subject=AlertSubject(
                event_ids=tuple(dict.fromkeys(ids)),
                deployment_id=first.deployment_id,
                run_id=first.run_id,
                pipeline_id=first.pipeline_id,
            ),
            actors=tuple(dict.fromkeys(people)),
            message=message,
            baseline={
                "protection": weak.target_name,
                "setting": weak.setting,
                "weakened": [stamp(weak.window.earliest), stamp(weak.window.latest)],
                "restored": [stamp(restore.window.earliest), stamp(restore.window.latest)],
                "deploys": len(deploys),
            },
            links=links_for(first, self.name),
        )


def _restore_of(
    weak: AccessChange, later: Sequence[AccessChange], within: timedelta
) -> AccessChange | None:
    for change in later:
        if change.window.earliest - weak.window.latest > 2 * within:
            return None
        if change.kind == "restore" and _same_protection(weak, change):
            return change
    return None


def _same_protection(a: AccessChange, b: AccessChange) -> bool:
    same_target = (a.platform, a.instance, a.owner, a.repository, a.target_type, a.target_name) == (
        b.platform,
        b.instance,
        b.owner,
        b.repository,
        b.target_type,
        b.target_name,
    )
    return same_target and (a.setting is None or b.setting is None or a.setting == b.setting)


def _guards(change: AccessChange, deploy: Deploy) -> bool:
    """Whether the protection guards this deploy: its environment, or its branch."""
    if (change.platform, change.instance, change.owner) != (
        deploy.platform,
        deploy.instance,
        deploy.owner,
    ) or change.repository not in (None, deploy.repository):
        return False
    name = change.target_name
    if change.target_type == "environment":
        return name is None or (deploy.environment or "").lower() == name.lower()
    if change.target_type == "branch" and name and deploy.ref:
        branch = deploy.ref.removeprefix("refs/heads/")
        return fnmatchcase(branch, name)
    return True
