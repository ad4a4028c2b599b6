"""``deploy-burst``: far more deploys to one repository in a short window than its baseline
— a compromised token or a runaway script. Raised once per burst."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterator
from datetime import timedelta

from pipeledger.anomalies._facts import Deploy
from pipeledger.anomalies._sliding import SlidingCounts
from pipeledger.anomalies.detectors._base import Detector, duration, names
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, Anomaly


class DeployBurstDetector(Detector):
    name = "deploy-burst"
    summary = "Far more deploys in a short window than the repository's baseline."
    default_severity = AlertSeverity.MEDIUM

    def detect(self, history: History) -> Iterator[Anomaly]:
        width = timedelta(minutes=self.settings.number("window_minutes", 60))
        factor = self.settings.number("factor", 4.0)
        minimum = self.settings.whole("min_deploys", 8)
        seconds = width.total_seconds()
        span = self.judging.lookback
        baselines: defaultdict[tuple[str, ...], SlidingCounts] = defaultdict(
            lambda: SlidingCounts(span)
        )
        recent: defaultdict[tuple[str, ...], deque[Deploy]] = defaultdict(deque)
        armed: dict[tuple[str, ...], bool] = {}
        for deploy in history.deploys:
            repo = deploy.place[:4]
            baseline = baselines[repo]
            window = recent[repo]
            baseline.advance(deploy.when)
            while window and window[0].when <= deploy.when - width:
                window.popleft()
            window.append(deploy)
            before = len(baseline) - (len(window) - 1)
            buckets = max(1, len(baseline.counts[0]))
            usual = before / buckets
            threshold = max(float(minimum), factor * usual)
            if len(window) < threshold / 2:
                armed[repo] = True
            burst = armed.get(repo, True) and len(window) >= threshold
            if burst and before >= self.needed_history and self.spans_enough(baseline, deploy.when):
                # Disarmed whether or not the period judges it: a burst that began before
                # ``--since`` is not raised again, under another id, by a later deploy.
                armed[repo] = False
                if self.judging.judges(deploy.when):
                    yield self._alert(list(window), usual, width, before, threshold)
            baseline.add(deploy.when, int(deploy.when.timestamp() // seconds))

    def _alert(
        self, burst: list[Deploy], usual: float, width: timedelta, before: int, threshold: float
    ) -> Anomaly:
        first, last = burst[0], burst[-1]
        environments = sorted({d.environment or "no environment" for d in burst})
        deployers = [d.deployer for d in burst if d.deployer]
        days = self.judging.settings.lookback_days
        message = (
            f"{len(burst)} deploys of {first.repository_name} in"
            f" {duration(last.when - first.when) if last.when > first.when else 'one minute'}"
            f" ({', '.join(environments)}) by {names(deployers)}; its {before} deploys in the"
            f" last {days} days came {usual:.1f} per {duration(width)} on average (counting"
            f" only windows with a deploy), and {threshold:.0f} in one window is a burst."
        )
        return self.deploy_alert(
            last,
            key=(first.owner, first.repository, first.deployment_id),
            message=message,
            score=min(1.0, len(burst) / (2 * threshold)),
            actors=deployers,
            event_ids=[i for d in burst for i in d.event_ids],
            baseline={
                "lookback_days": days,
                "deploys": before,
                "window_minutes": width.total_seconds() / 60,
                "usual_per_window": round(usual, 2),
                "burst": len(burst),
            },
        )
