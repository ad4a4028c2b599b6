"""``new-approver-pair``: a deployer-approver pair the environment's history does not know,
where the approver has approved only this one person since, each time within minutes — an
approval that checks nothing. Judged only on approvals whose time is recorded (a webhook's or
GitLab's), never on times borrowed from the deployment (GitHub's REST backfill)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeledger.anomalies._facts import Deploy
from pipeledger.anomalies._sliding import SlidingCounts
from pipeledger.anomalies.detectors._base import Detector, deploys_of, duration, where
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, Anomaly

APPROVED = frozenset({"approved", "approve"})


@dataclass
class _Pair:
    first: datetime
    deploys_before: int
    # The environment's baseline knew enough, when the pair first appeared, to call it new.
    known_place: bool
    latencies: list[timedelta] = field(default_factory=list)
    raised: bool = False


@dataclass
class _Approver:
    deployers: set[str] = field(default_factory=set)


class NewApproverPairDetector(Detector):
    name = "new-approver-pair"
    summary = "A new pair where one person always approves the same deployer within minutes."
    default_severity = AlertSeverity.MEDIUM
    min_history = 10

    def detect(self, history: History) -> Iterator[Anomaly]:
        quick = timedelta(minutes=self.settings.number("max_minutes", 5))
        needed = self.settings.whole("min_approvals", 3)
        span = self.judging.lookback
        places: defaultdict[tuple[str, ...], SlidingCounts] = defaultdict(
            lambda: SlidingCounts(span)
        )
        pairs: dict[tuple[tuple[str, ...], str, str], _Pair] = {}
        approvers: defaultdict[tuple[tuple[str, ...], str], _Approver] = defaultdict(_Approver)
        for deploy in history.deploys:
            place = places[deploy.place]
            place.advance(deploy.when)
            deployer = (deploy.deployer or "").lower()
            for approval in deploy.approvals:
                approver = approval.approver.lower()
                if approval.action not in APPROVED or not deployer or approver == deployer:
                    continue
                key = (deploy.place, deployer, approver)
                pair = pairs.get(key)
                if pair is None:
                    pair = pairs[key] = _Pair(
                        deploy.when, len(place), self.knows_enough(place, deploy.when)
                    )
                if approval.timed:
                    pair.latencies.append(abs(approval.when - deploy.when))
                seen = approvers[deploy.place, approver]
                seen.deployers.add(deployer)
                if (
                    pair.known_place
                    and not pair.raised
                    and len(pair.latencies) >= needed
                    and max(pair.latencies) <= quick
                    and seen.deployers == {deployer}
                    and self.judging.judges(deploy.when)
                    and not self.skips(approval.approver, approval.approver_type)
                ):
                    pair.raised = True
                    yield self._alert(deploy, approval.approver, pair)
            place.add(deploy.when, deployer)

    def _alert(self, deploy: Deploy, approver: str, pair: _Pair) -> Anomaly:
        count = len(pair.latencies)
        slowest = max(pair.latencies)
        message = (
            f"{approver} has approved {deploy.deployer}'s deploys to {where(deploy)} {count}"
            f" times since {pair.first:%Y-%m-%d}, each within {duration(slowest)}, and"
            f" nobody else's; the pair is new: none of the"
            f" {deploys_of(deploy, pair.deploys_before)} in the look-back before had it."
        )
        return self.deploy_alert(
            deploy,
            key=(
                deploy.owner,
                deploy.repository,
                deploy.environment or "",
                (deploy.deployer or "").lower(),
                approver.lower(),
            ),
            message=message,
            score=min(1.0, count / 6 + 0.5),
            actors=[approver],
            baseline={
                "approvals": count,
                "slowest_minutes": slowest.total_seconds() / 60,
                "pair_first_seen": f"{pair.first:%Y-%m-%d}",
            },
        )
