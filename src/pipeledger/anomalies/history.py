"""The part of the ledger the detectors need, read once: every deployment, approval, run and
access change from the start of the look-back to the end of the judged period, projected to
small facts. Memory grows with that window, not with the ledger."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from sys import intern
from typing import Any, overload

from pipeledger.anomalies._access import access_changes
from pipeledger.anomalies._facts import AccessChange, Approval, Deploy, visible_events
from pipeledger.events import AuditEvent, EventKind, parse_time
from pipeledger.json_codec import loads
from pipeledger.policy.audit import collector_paused
from pipeledger.sinks.contract import EventFilter, Ledger

Json = dict[str, Any]
# (platform, instance, owner, repository, id)
Key = tuple[str, str, str, str, str]
# (platform, instance, login)
Person = tuple[str, str, str]

RAISED = "raised"
# ``occurred_at_source`` prefixes of an approval whose time is its deployment's or run's.
BORROWED_TIMES = ("deployment.", "run.")
ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Acknowledgement:
    alert_id: str
    by: str | None
    reason: str
    at: datetime


@dataclass
class History:
    start: datetime | None
    end: datetime | None
    deploys: list[Deploy] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    access: list[AccessChange] = field(default_factory=list)
    activity: dict[Person, list[datetime]] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)
    acknowledged: dict[str, Acknowledgement] = field(default_factory=dict)
    events_read: int = 0

    def release(self) -> None:
        """Breaks the one cycle among the facts — a deploy lists its approvals and each
        approval names its deploy — so that dropping the history frees it at once."""
        for approval in self.approvals:
            approval.deployment = None

    def last_active_before(self, person: Person, moment: datetime) -> datetime | None:
        times = self.activity.get(person)
        if not times:
            return None
        index = bisect_left(times, moment)
        return times[index - 1] if index else None


@dataclass(slots=True)
class _Run:
    attempts: dict[str, tuple[str | None, str, str | None]] = field(default_factory=dict)
    link: str | None = None


class HistoryBuilder:
    """Folds event bodies (parsed JSON) into a :class:`History`; unneeded kinds cost nothing."""

    def __init__(self, start: datetime | None, end: datetime | None) -> None:
        self.history = History(start=start, end=end)
        self._deploys: dict[Key, Deploy] = {}
        self._created: set[Key] = set()
        self._runs: dict[Key, _Run] = {}
        self._approvals: dict[Key, list[Approval]] = defaultdict(list)
        self._access_events: list[AuditEvent] = []
        self.handlers: Mapping[str, Callable[[Json], None]] = {
            EventKind.DEPLOYMENT.value: self._deployment,
            EventKind.DEPLOYMENT_APPROVAL.value: self._approval,
            EventKind.PIPELINE_RUN.value: self._run,
            EventKind.PERMISSION_CHANGE.value: self._access,
            EventKind.PROTECTION_CHANGE.value: self._access,
            EventKind.ANOMALY.value: self._anomaly,
        }

    def add_body(self, kind: str, body: str) -> None:
        handler = self.handlers.get(kind)
        if handler is not None:
            self.history.events_read += 1
            handler(loads(body))

    def _deployment(self, data: Json) -> None:
        scope = data["scope"]
        repository = scope.get("repository")
        if repository is None:
            return
        correlation = data.get("correlation") or {}
        key = _key(data, scope, repository, correlation.get("deployment_id") or data["id"])
        when = parse_time(data["occurred_at"])
        deploy = self._deploys.get(key)
        created = data["action"] == "created"
        if deploy is None:
            self._deploys[key] = _new_deploy(data, when, scope, repository, correlation)
        else:
            deploy.event_ids.append(data["id"])
            deploy.environment = deploy.environment or scope.get("environment")
            if key not in self._created and (created or when < deploy.when):
                _take_head(deploy, data, when, correlation)
        if created:
            self._created.add(key)

    def _run(self, data: Json) -> None:
        scope = data["scope"]
        correlation = data.get("correlation") or {}
        run_id = correlation.get("run_id")
        if not run_id or scope.get("repository") is None:
            return
        key = _key(data, scope, scope["repository"], run_id)
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = _Run()
        actor = data["actor"]
        attempt = intern(correlation.get("run_attempt") or "1")
        run.attempts[attempt] = (_word(actor.get("login")), intern(actor["type"]), actor.get("id"))
        run.link = run.link or (data.get("links") or {}).get("html")
        self._active(data, actor.get("login"), actor["type"])

    def _approval(self, data: Json) -> None:
        scope = data["scope"]
        correlation = data.get("correlation") or {}
        actor = data["actor"]
        login = actor.get("login")
        if login is None:
            return
        approval = Approval(
            when=parse_time(data["occurred_at"]),
            approver=intern(login),
            approver_type=intern(actor["type"]),
            action=intern(data["action"]),
            environment=_word(scope.get("environment")),
            event_id=data["id"],
            platform=intern(data["platform"]),
            instance=intern(data["instance"]),
            owner=intern(scope["owner"]),
            repository=_word(scope.get("repository")),
            timed=approval_time_known(data.get("attributes")),
            approver_id=actor.get("id"),
        )
        self.history.approvals.append(approval)
        run_id = correlation.get("run_id")
        if run_id and approval.repository:
            self._approvals[_key(data, scope, approval.repository, run_id)].append(approval)
        self._active(data, login, actor["type"], approval.when)

    def _access(self, data: Json) -> None:
        self._access_events.append(AuditEvent.from_dict(data))

    def _anomaly(self, data: Json) -> None:
        attributes = data.get("attributes") or {}
        alert = attributes.get("alert_id")
        if not isinstance(alert, str):
            return
        if data["action"] == RAISED:
            self.history.recorded.add(alert)
        elif data["action"] == ACKNOWLEDGED and alert not in self.history.acknowledged:
            self.history.acknowledged[alert] = Acknowledgement(
                alert_id=alert,
                by=data["actor"].get("login"),
                reason=str(attributes.get("reason") or ""),
                at=parse_time(data["occurred_at"]),
            )

    def _active(self, data: Json, login: str | None, actor_type: str, when: Any = None) -> None:
        if login is None or actor_type != "user":
            return
        moment = when or parse_time(data["occurred_at"])
        person = (intern(data["platform"]), intern(data["instance"]), intern(login.lower()))
        self.history.activity.setdefault(person, []).append(moment)

    def finish(self) -> History:
        history = self.history
        for key, deploy in self._deploys.items():
            self._join(key, deploy)
        history.deploys = sorted(self._deploys.values(), key=lambda d: (d.when, d.deployment_id))
        for deploy in history.deploys:
            if deploy.deployer is not None and deploy.deployer_type == "user":
                person = (deploy.platform, deploy.instance, deploy.deployer.lower())
                history.activity.setdefault(person, []).append(deploy.when)
        for times in history.activity.values():
            times.sort()
        history.approvals.sort(key=lambda a: a.when)
        events = visible_events(self._access_events)
        history.access = sorted(
            (change for event in events for change in access_changes(event)),
            key=lambda c: c.window.latest,
        )
        # The handlers are the builder's bound methods, a cycle through the builder and its
        # working state: broken, so that reference counting frees them all with the builder.
        self.handlers = {}
        return history

    def _join(self, key: Key, deploy: Deploy) -> None:
        if deploy.run_id is None:
            return
        run_key = (*key[:4], deploy.run_id)
        run = self._runs.get(run_key)
        if run is not None:
            wanted = deploy.run_attempt or max(run.attempts, key=_attempt_number)
            login, actor_type, ident = run.attempts.get(wanted) or next(iter(run.attempts.values()))
            if login is not None:
                deploy.deployer, deploy.deployer_type = login, actor_type
                deploy.deployer_id = ident
            if run.link:
                deploy.links.setdefault("run", run.link)
        environment = (deploy.environment or "").lower()
        approvals = self._approvals.get(run_key, [])
        deploy.approvals = sorted(
            (a for a in approvals if a.environment is None or a.environment.lower() == environment),
            key=lambda a: a.when,
        )
        for approval in deploy.approvals:
            approval.deployment = deploy


def approval_time_known(attributes: Mapping[str, Any] | None) -> bool:
    """Whether an approval event carries the moment of the approval: not when its time was
    borrowed from the deployment or the run (``occurred_at_source: deployment.created_at``,
    ``run.created_at``…); a webhook's or GitLab's own time is the approval's."""
    source = (attributes or {}).get("occurred_at_source")
    return not (isinstance(source, str) and source.startswith(BORROWED_TIMES))


@overload
def _word(text: str) -> str: ...


@overload
def _word(text: None) -> None: ...
def _word(text: str | None) -> str | None:
    """Names that repeat across events (platform, owner, repository, environment, login)
    kept once in memory rather than once per event."""
    return intern(text) if isinstance(text, str) else None


def _attempt_number(text: str) -> int:
    return int(text) if text.isdigit() else 1


def _key(data: Json, scope: Json, repository: str, ident: str) -> Key:
    return (
        intern(data["platform"]),
        intern(data["instance"]),
        intern(scope["owner"]),
        intern(repository),
        ident,
    )


def _new_deploy(
    data: Json, when: datetime, scope: Json, repository: str, correlation: Json
) -> Deploy:
    actor = data["actor"]
    return Deploy(
        when=when,
        platform=intern(data["platform"]),
        instance=intern(data["instance"]),
        owner=intern(scope["owner"]),
        repository=intern(repository),
        environment=_word(scope.get("environment")),
        deployment_id=correlation.get("deployment_id") or data["id"],
        run_id=correlation.get("run_id"),
        pipeline_id=correlation.get("pipeline_id"),
        run_attempt=correlation.get("run_attempt"),
        deployer=_word(actor.get("login")),
        deployer_type=intern(actor["type"]),
        deployer_id=actor.get("id"),
        ref=data.get("ref"),
        event_ids=[data["id"]],
        links=dict(data.get("links") or {}),
    )


def _take_head(deploy: Deploy, data: Json, when: datetime, correlation: Json) -> None:
    """The ``created`` event (or the earliest status) says when and by whom."""
    deploy.when = when
    deploy.deployer = _word(data["actor"].get("login"))
    deploy.deployer_type = intern(data["actor"]["type"])
    deploy.deployer_id = data["actor"].get("id")
    deploy.ref = data.get("ref") or deploy.ref
    deploy.run_id = deploy.run_id or correlation.get("run_id")
    deploy.pipeline_id = deploy.pipeline_id or correlation.get("pipeline_id")
    deploy.run_attempt = deploy.run_attempt or correlation.get("run_attempt")
    deploy.event_ids.insert(0, deploy.event_ids.pop())
    for name, link in (data.get("links") or {}).items():
        deploy.links.setdefault(name, link)


# The kinds the detectors fold into facts.
FACT_KINDS = (
    EventKind.DEPLOYMENT,
    EventKind.DEPLOYMENT_APPROVAL,
    EventKind.PIPELINE_RUN,
    EventKind.PERMISSION_CHANGE,
    EventKind.PROTECTION_CHANGE,
)
FACT_KIND_NAMES = frozenset(kind.value for kind in FACT_KINDS)


def read_history(ledger: Ledger, start: datetime | None, end: datetime | None) -> History:
    """The facts of every event from ``start`` (the look-back's beginning) to ``end``."""
    builder = HistoryBuilder(start, end)
    # No kind filter in the query: the facts are most of a ledger, and SQLite serves a
    # period faster in chain order than through the kind-and-time index plus a sort.
    with collector_paused():
        for kind, body in ledger.event_bodies(EventFilter(since=start, until=end)):
            if kind in FACT_KIND_NAMES:
                builder.add_body(kind, body)
        return builder.finish()


def anything_to_judge(ledger: Ledger, since: datetime | None, until: datetime | None) -> bool:
    """Whether the ledger holds a deploy or an approval in a period — what every alert is
    about. An empty period costs one index look-up."""
    kinds = (EventKind.DEPLOYMENT, EventKind.DEPLOYMENT_APPROVAL)
    bodies = iter(ledger.event_bodies(EventFilter(kinds=kinds, since=since, until=until)))
    try:
        return next(bodies, None) is not None
    finally:
        close = getattr(bodies, "close", None)
        if close is not None:
            close()


@dataclass
class AlertStates:
    """Which alerts were recorded (``anomalies --record``) and which acknowledged: a few ids,
    read once for the whole ledger since acknowledgements are made after the fact."""

    recorded: set[str] = field(default_factory=set)
    acknowledged: dict[str, Acknowledgement] = field(default_factory=dict)


def read_alert_states(ledger: Ledger) -> AlertStates:
    builder = HistoryBuilder(None, None)
    for kind, body in ledger.event_bodies(EventFilter(kinds=(EventKind.ANOMALY,))):
        builder.add_body(kind, body)
    history = builder.history
    return AlertStates(recorded=history.recorded, acknowledged=history.acknowledged)
