"""A synthetic deploy history for the anomaly detectors: repositories with weeks of regular
deploys (fixed deployers, approvers, hour bands, weekdays), anomalies of every detector's kind
injected into it, and decoys that look odd but must not alert. Used by the tests and by
``make bench`` (which scales it to a million events)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id

PLATFORM, INSTANCE = "github", "github.com"
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
BOT = Actor(login="github-actions[bot]", id="41898282", type=ActorType.BOT)
UNKNOWN = Actor(login=None, id=None, type=ActorType.UNKNOWN)


@dataclass(frozen=True)
class Team:
    """One repository environment's habits."""

    owner: str
    repository: str
    environment: str
    deployers: tuple[str, ...]
    approvers: tuple[str, ...]
    first_hour: int
    last_hour: int
    per_day: int = 2


@dataclass(frozen=True)
class Injected:
    name: str
    detector: str
    subjects: frozenset[str]  # deployment ids


@dataclass
class History:
    events: list[AuditEvent] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)
    decoys: dict[str, str] = field(default_factory=dict)  # name -> deployment or event id
    normal_production: set[str] = field(default_factory=set)  # deployment ids
    days: int = 0

    @property
    def judged_from(self) -> datetime:
        """Where tests start judging: four weeks of baseline first."""
        return START + timedelta(days=28)


TEAMS = (
    Team("acme", "shop", "production", ("alice", "bob", "carol", "judy"), ("pat", "quinn"), 8, 11),
    Team("acme", "shop", "staging", ("alice", "bob", "carol"), (), 8, 16, per_day=3),
    Team("acme", "api", "production", ("dave", "erin"), ("pat", "rob"), 13, 16),
    Team("acme", "web", "production", ("frank", "grace", "alice"), ("quinn", "rob"), 9, 12),
)


class Builder:
    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.history = History()
        self._serial = 1000

    def _next(self) -> str:
        self._serial += 1
        return str(self._serial)

    def deploy(
        self,
        team: Team,
        when: datetime,
        deployer: str,
        *,
        approver: str | None = None,
        latency: timedelta | None = None,
        ref: str = "refs/heads/main",
    ) -> str:
        """A run by ``deployer``, its deployment (created by the Actions bot), a success
        status and, where the team approves, one approval. Returns the deployment id."""
        run_id, deployment_id = self._next(), self._next()
        scope = Scope(owner=team.owner, repository=team.repository, environment=team.environment)
        base = f"https://github.com/{team.owner}/{team.repository}"
        correlation = {"run_id": run_id, "run_attempt": "1", "deployment_id": deployment_id}
        user = Actor(login=deployer, id=f"u-{deployer}", type=ActorType.USER)
        events = self.history.events
        events.append(
            _event(
                EventKind.PIPELINE_RUN,
                "completed",
                when - timedelta(minutes=2),
                user,
                scope,
                "/repos/{owner}/{repo}/actions/runs/{run_id}",
                run_id,
                correlation={"run_id": run_id, "run_attempt": "1"},
                ref=ref,
                links={"html": f"{base}/actions/runs/{run_id}"},
            )
        )
        events.append(
            _event(
                EventKind.DEPLOYMENT,
                "created",
                when,
                BOT,
                scope,
                "/repos/{owner}/{repo}/deployments/{id}",
                deployment_id,
                correlation=correlation,
                ref=ref,
                links={"html": f"{base}/deployments/{deployment_id}"},
            )
        )
        if team.approvers or approver:
            who = approver or self.random.choice(team.approvers)
            wait = latency or timedelta(minutes=self.random.randint(8, 90))
            events.append(
                _event(
                    EventKind.DEPLOYMENT_APPROVAL,
                    "approved",
                    when + wait,
                    Actor(login=who, id=f"u-{who}", type=ActorType.USER),
                    scope,
                    "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals",
                    f"{run_id}:{who}",
                    correlation={"run_id": run_id, "run_attempt": "1"},
                )
            )
        events.append(
            _event(
                EventKind.DEPLOYMENT,
                "success",
                when + timedelta(minutes=95),
                BOT,
                scope,
                "/repos/{owner}/{repo}/deployments/{id}/statuses",
                f"{deployment_id}:success",
                correlation=correlation,
                ref=ref,
            )
        )
        return deployment_id

    def regular_days(self, teams: Sequence[Team], days: int, skip: dict[str, range]) -> None:
        """Weekday deploys inside each team's band by its own people; ``skip`` keeps a
        person away for some days (a holiday, a departure)."""
        for day in range(days):
            date = START + timedelta(days=day)
            if date.weekday() >= 5:
                continue
            for team in teams:
                present = [p for p in team.deployers if day not in skip.get(p, range(0))]
                for _ in range(team.per_day):
                    when = date + timedelta(
                        hours=self.random.randint(team.first_hour, team.last_hour),
                        minutes=self.random.randint(0, 59),
                    )
                    ident = self.deploy(team, when, self.random.choice(present))
                    if team.environment == "production":
                        self.history.normal_production.add(ident)
        self.history.days = max(self.history.days, days)

    def access(
        self,
        kind: EventKind,
        action: str,
        when: datetime,
        actor: Actor,
        scope: Scope,
        target: dict[str, Any],
        change: dict[str, Any],
        *,
        attributes: dict[str, Any] | None = None,
        window: timedelta | None = None,
    ) -> str:
        native = self._next()
        extra = dict(attributes or {})
        if window is not None:
            extra |= {
                "detected_by": "snapshot-diff",
                "window_start": _time(when - window),
                "window_end": _time(when),
            }
        event = _event(
            kind,
            action,
            when,
            actor,
            scope,
            "/orgs/{org}/audit-log",
            native,
            target=target,
            change=change,
            attributes=extra,
        )
        self.history.events.append(event)
        return event.id


def build(seed: int = 7) -> History:
    """Ten weeks of regular history with every injected anomaly and decoy."""
    builder = Builder(seed)
    shop, staging, api, web = TEAMS
    # judy leaves after the first days (returns dormant); bob takes a two-week holiday.
    builder.regular_days(TEAMS, 70, {"judy": range(4, 70), "bob": range(30, 44)})
    _inject(builder, shop, staging, api, web)
    builder.history.events.sort(key=lambda e: e.occurred_at)
    return builder.history


def _inject(builder: Builder, shop: Team, staging: Team, api: Team, web: Team) -> None:
    """Every injected deploy falls on a weekday inside its team's hours unless its point is
    the time: each should be found by its own detector only."""
    h = builder.history
    day = _days

    def inject(name: str, detector: str, *deployments: str) -> None:
        h.injected.append(Injected(name, detector, frozenset(deployments)))

    # 1. first deploy to an environment (bob deploys the api), and first anywhere (mallory).
    inject("bob first to api", "first-deployer", builder.deploy(api, day(51, 14), "bob"))
    inject("mallory first anywhere", "first-deployer", builder.deploy(web, day(52, 10), "mallory"))
    # 2. an unusual time: carol, a regular, deploys the shop at 21:10 on a Tuesday.
    inject("carol at 21:10", "unusual-time", builder.deploy(shop, day(50, 21, 10), "carol"))
    # 3. grants with no linked change, used within hours: an audit-log admin grant, and a new
    #    environment reviewer seen only between two snapshots.
    root = Actor("root", "u-root", ActorType.USER)
    builder.access(
        EventKind.PERMISSION_CHANGE,
        "granted",
        day(53, 10, 2),
        root,
        Scope("acme", "web"),
        {"type": "user", "login": "frank"},
        {"from": "write", "to": "admin"},
    )
    frank = builder.deploy(web, day(53, 10, 37), "frank")
    inject("frank admin then deploy", "privilege-escalation", frank)
    builder.access(
        EventKind.PROTECTION_CHANGE,
        "strengthened",
        day(57, 12),
        UNKNOWN,
        Scope("acme", "api", "production"),
        {"type": "environment", "name": "production", "setting": "required_reviewers"},
        {"from": ["user:pat", "user:rob"], "to": ["user:ivan", "user:pat", "user:rob"]},
        attributes={"strength": "stronger"},
        window=timedelta(hours=6),
    )
    ivan = builder.deploy(api, day(57, 14), "erin", approver="ivan", latency=timedelta(minutes=20))
    inject("ivan reviewer then approval", "privilege-escalation", ivan)
    # 4. production protection switched off around one deploy, then back on.
    scope = Scope("acme", "api", "production")
    target = {"type": "environment", "name": "production", "setting": "required_reviewers"}
    reviewers = ["user:ivan", "user:pat", "user:rob"]
    dave = Actor("dave", "u-dave", ActorType.USER)
    builder.access(
        EventKind.PROTECTION_CHANGE,
        "weakened",
        day(60, 13),
        dave,
        scope,
        target,
        {"from": reviewers, "to": []},
        attributes={"strength": "weaker"},
    )
    toggled = builder.deploy(api, day(60, 13, 20), "dave", approver="pat")
    builder.access(
        EventKind.PROTECTION_CHANGE,
        "strengthened",
        day(60, 13, 45),
        dave,
        scope,
        target,
        {"from": [], "to": reviewers},
        attributes={"strength": "stronger"},
    )
    inject("api reviewers off for one deploy", "protection-toggle", toggled)
    # 5. a burst: fourteen staging deploys of the shop in 40 minutes.
    burst = [builder.deploy(staging, day(64, 9, 3 * i), "alice") for i in range(14)]
    inject("shop staging burst", "deploy-burst", *burst)
    # 6. judy, gone since day 4, deploys the shop again on day 66.
    builder.deploy(shop, day(1, 9, 40), "judy")  # her last deploy before she left
    judy = builder.deploy(shop, day(66, 9, 30), "judy")
    inject("judy back after two months", "dormant-account", judy)
    # 7. oscar, new, approves grace's web deploys and nobody else's, each within two minutes.
    stamped = [
        builder.deploy(web, day(date, 11, 5), "grace", approver="oscar", latency=_minutes(2))
        for date in (56, 57, 58, 59)
    ]
    inject("oscar rubber-stamps grace", "new-approver-pair", *stamped)
    _decoys(builder, shop, api, web)


def _days(number: int, hour: int, minute: int = 0) -> datetime:
    return START + timedelta(days=number, hours=hour, minutes=minute)


def _minutes(number: int) -> timedelta:
    return timedelta(minutes=number)


def _decoys(builder: Builder, shop: Team, api: Team, web: Team) -> None:
    h = builder.history
    day = _days
    # A regular deployer just outside the band's edge hours.
    h.decoys["alice at 12:20"] = builder.deploy(shop, day(51, 12, 20), "alice")
    h.decoys["bob at 07:45"] = builder.deploy(shop, day(57, 7, 45), "bob")
    # bob back from two weeks away (his first deploy after the holiday).
    h.decoys["bob back from holiday"] = builder.deploy(shop, day(44, 9, 15), "bob")
    # A grant with a linked change, used at once.
    builder.access(
        EventKind.PERMISSION_CHANGE,
        "granted",
        day(55, 9, 0),
        Actor("root", "u-root", ActorType.USER),
        Scope("acme", "web"),
        {"type": "user", "login": "grace"},
        {"from": "write", "to": "maintain"},
        attributes={"linked_change": "CHG-1042"},
    )
    h.decoys["grace maintain with CHG-1042"] = builder.deploy(web, day(58, 9, 30), "grace")
    # Protection weakened and restored with no deploy in between.
    target = {"type": "environment", "name": "production", "setting": "wait_timer"}
    scope = Scope("acme", "shop", "production")
    erin = Actor("erin", "u-erin", ActorType.USER)
    builder.access(
        EventKind.PROTECTION_CHANGE,
        "weakened",
        day(61, 18),
        erin,
        scope,
        target,
        {"from": 30, "to": 0},
        attributes={"strength": "weaker"},
    )
    builder.access(
        EventKind.PROTECTION_CHANGE,
        "strengthened",
        day(61, 18, 30),
        erin,
        scope,
        target,
        {"from": 0, "to": 30},
        attributes={"strength": "stronger"},
    )
    # peggy, new, approves many people's api deploys quickly: doing the job, not a pair.
    for n, who in enumerate(("dave", "erin", "dave", "erin")):
        ident = builder.deploy(
            api, day(63 + n, 14), who, approver="peggy", latency=timedelta(minutes=2)
        )
    h.decoys["peggy approves everyone quickly"] = ident


def _event(
    kind: EventKind,
    action: str,
    when: datetime,
    actor: Actor,
    scope: Scope,
    endpoint: str,
    native: str,
    **extra: Any,
) -> AuditEvent:
    return AuditEvent(
        id=event_id(PLATFORM, INSTANCE, endpoint, native),
        kind=kind,
        action=action,
        occurred_at=when,
        platform=PLATFORM,
        instance=INSTANCE,
        actor=actor,
        scope=scope,
        source=Source(endpoint=endpoint, native_id=native),
        **extra,
    )


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
