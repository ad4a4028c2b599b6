"""``first-deployer``: someone deploys to an environment they have never deployed to in the
look-back (medium), or deploys for the first time anywhere on the instance (high)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pipeledger.anomalies._facts import Deploy
from pipeledger.anomalies._sliding import SlidingCounts
from pipeledger.anomalies.detectors._base import Detector, deploys_of, names, where
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, Anomaly


class FirstDeployerDetector(Detector):
    name = "first-deployer"
    summary = "A person deploys to an environment (or anywhere) for the first time."
    default_severity = AlertSeverity.MEDIUM

    def detect(self, history: History) -> Iterator[Anomaly]:
        span = self.judging.lookback
        places: defaultdict[tuple[str, ...], SlidingCounts] = defaultdict(
            lambda: SlidingCounts(span)
        )
        instances: defaultdict[tuple[str, str], SlidingCounts] = defaultdict(
            lambda: SlidingCounts(span)
        )
        for deploy in history.deploys:
            person = deploy.deployer.lower() if deploy.deployer else None
            place = places[deploy.place]
            anywhere = instances[deploy.platform, deploy.instance]
            place.advance(deploy.when)
            anywhere.advance(deploy.when)
            if (
                person is not None
                and place.count(person) == 0
                and self.knows_enough(place, deploy.when)
                and self.judging.judges(deploy.when)
                and not self.skips(deploy.deployer, deploy.deployer_type)
            ):
                first_anywhere = anywhere.count(person) == 0
                yield self._alert(deploy, place, first_anywhere)
            place.add(deploy.when, person)
            anywhere.add(deploy.when, person)

    def _alert(self, deploy: Deploy, place: SlidingCounts, first_anywhere: bool) -> Anomaly:
        deployers = [str(k) for k in place.counts[0] if k is not None]
        days = self.judging.settings.lookback_days
        first = (
            f"the first deploy by {deploy.deployer} anywhere on {deploy.instance}"
            if first_anywhere
            else f"the first deploy by {deploy.deployer} to this environment"
        )
        message = (
            f"{deploy.deployer} deployed {where(deploy)}: {first} in the last {days} days;"
            f" the {deploys_of(deploy, len(place))} in that time were by {names(deployers)}."
        )
        default = AlertSeverity.HIGH if first_anywhere else AlertSeverity.MEDIUM
        severity = self.settings.severity_or(default)
        return self.deploy_alert(
            deploy,
            key=(deploy.owner, deploy.repository, deploy.environment or "", deploy.deployment_id),
            message=message,
            score=1.0 if first_anywhere else 0.7,
            severity=severity,
            baseline={
                "lookback_days": days,
                "deploys": len(place),
                "deployers": sorted(deployers),
                "first_anywhere": first_anywhere,
            },
        )
