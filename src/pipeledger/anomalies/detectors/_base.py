"""What every detector shares: the period it judges, its settings, and how an alert about a
deployment is put together."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pipeledger.anomalies._facts import Deploy
from pipeledger.anomalies._sliding import SlidingCounts
from pipeledger.anomalies.history import History
from pipeledger.anomalies.model import AlertSeverity, AlertSubject, Anomaly, alert_id
from pipeledger.anomalies.settings import AnomalySettings, DetectorSettings
from pipeledger.docs_links import detector_docs_url

# How many days a baseline must span before it judges (``min_days``).
MIN_DAYS = 21


@dataclass(frozen=True)
class Judging:
    """The period whose events are judged (the look-back before it only teaches), and the
    settings in force."""

    since: datetime | None
    until: datetime | None
    settings: AnomalySettings

    def judges(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )

    @property
    def lookback(self) -> timedelta:
        return self.settings.lookback


class Detector(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]
    default_severity: ClassVar[AlertSeverity]
    # Deploys a baseline needs before it judges (``min_history``), where the detector has one.
    min_history: ClassVar[int] = 20

    def __init__(self, judging: Judging) -> None:
        self.judging = judging
        self.settings: DetectorSettings = judging.settings.detector(self.name)

    @abstractmethod
    def detect(self, history: History) -> Iterator[Anomaly]: ...

    @property
    def severity(self) -> AlertSeverity:
        return self.settings.severity_or(self.default_severity)

    def knows_enough(self, learned: SlidingCounts, moment: datetime) -> bool:
        """Whether a baseline may judge: at least ``min_history`` deploys in the look-back,
        spanning at least ``min_days`` — a team new to the ledger is not judged while a few
        days of history would make every habit look like an exception."""
        return len(learned) >= self.needed_history and self.spans_enough(learned, moment)

    @property
    def needed_history(self) -> int:
        return self.settings.whole("min_history", self.min_history)

    def spans_enough(self, learned: SlidingCounts, moment: datetime) -> bool:
        oldest = learned.oldest()
        needed = timedelta(days=self.settings.number("min_days", MIN_DAYS))
        return oldest is not None and moment - oldest >= needed

    def skips(self, login: str | None, actor_type: str = "user") -> bool:
        """People this detector does not judge: unknown, not a user, ignored or allowed."""
        return (
            login is None
            or actor_type != "user"
            or self.judging.settings.ignores(login)
            or self.settings.allows(login)
        )

    def deploy_alert(
        self,
        deploy: Deploy,
        *,
        key: Sequence[str],
        message: str,
        score: float,
        baseline: Mapping[str, Any],
        severity: AlertSeverity | None = None,
        actors: Iterable[str] = (),
        event_ids: Iterable[str] = (),
    ) -> Anomaly:
        people = [deploy.deployer] if deploy.deployer else []
        people += [a for a in actors if a not in people]
        return Anomaly(
            id=alert_id(self.name, deploy.platform, deploy.instance, key),
            detector=self.name,
            severity=severity or self.severity,
            score=max(0.0, min(score, 1.0)),
            occurred_at=deploy.when,
            platform=deploy.platform,
            instance=deploy.instance,
            owner=deploy.owner,
            repository=deploy.repository,
            environment=deploy.environment,
            subject=AlertSubject(
                event_ids=tuple(dict.fromkeys([*deploy.event_ids, *event_ids])),
                deployment_id=deploy.deployment_id,
                run_id=deploy.run_id,
                pipeline_id=deploy.pipeline_id,
            ),
            actors=tuple(people),
            message=message,
            baseline=dict(baseline),
            links=links_for(deploy, self.name),
        )


def links_for(deploy: Deploy | None, detector: str) -> dict[str, str]:
    links = {"docs": detector_docs_url(detector)}
    if deploy is not None:
        for name in ("html", "run"):
            if deploy.links.get(name):
                links["deployment" if name == "html" else "run"] = deploy.links[name]
    return links


def where(deploy: Deploy) -> str:
    target = f" to {deploy.environment}" if deploy.environment else ""
    return f"{deploy.repository_name}{target}"


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def names(logins: Iterable[str], limit: int = 5) -> str:
    unique = sorted(set(logins), key=str.lower)
    if not unique:
        return "nobody"
    shown, rest = unique[:limit], len(unique) - limit
    if rest > 0:
        return f"{', '.join(shown)} and {rest} other{'s' if rest > 1 else ''}"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def deploys_of(deploy: Deploy, count: int) -> str:
    env = f"{deploy.environment} " if deploy.environment else ""
    return f"{count} {env}deploy{'s' if count != 1 else ''} of this repository"
