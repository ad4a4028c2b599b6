"""What the pack keeps of the ledger (issue 13): the events its period needs, not the ledger.
The pack is the same, file for file, as one built from every event in memory
(``tests/core/report/test_pack_reading.py``); only what is held differs.

**Read 1** is the chain check, which reads and verifies every record anyway. From the bodies
it parses this keeps the ids later facts supersede and, per deployment, a few numbers summing
up its status events (:class:`Deployments`): its head status, its environment, its first
success and failure, whether a status lies in the period. From these the deployments the
pack needs whole are known:

- those with a status in the period (the pack's list, sample, evidence pages and findings);
- the production deployments DORA counts in the period or that went live up to the failure
  window after it (a hotfix after the period's end can blame a deploy inside it), and any
  production deployment that records no commit (its run names it).

**Read 1b** takes the deployment events alone, for the commit and run of those deployments'
head statuses and the commit of every other production deployment, which takes part in DORA
by that summary alone: which commits were deployed before (rollbacks, a commit's first
deploy) and when a failure was restored.

**Read 2** goes over the whole ledger again, parsing each body but building an event only
for what the pack uses: events in the period; the status events, runs, approvals and gate
decisions of the deployments kept whole (joined by deployment id and run id, as
:mod:`pipeledger.policy.deployment_context` joins them); anomaly alerts that name them;
permission and protection changes from the access look-back before the period, and
bypasses from a day before it to an hour after. The coverage table and what
:mod:`pipeledger.evidence_pack._history` checks are counted on the way, over every event.

**Reads 3 and 4** take only the reviews (and anomaly events): those that vouch for the kept
deployments' commits or deployments and the acknowledgements of the kept alerts, then every
review of the pull requests found (a review names the commit it saw, not the merge commit).

The kept events are put back in chain order, so the pack's code joins them exactly as it
joins the whole ledger: every key a lookup of the pack uses holds every event the whole
ledger files under it. Memory follows the period (but for the few numbers per deployment);
time is about two reads of the ledger.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeledger.dora.deploys import (
    FAILURE_STATES,
    SUCCESS_STATES,
    ProductionSummary,
)
from pipeledger.events import AuditEvent, EventKind, parse_time
from pipeledger.evidence_pack._evidence import BYPASS_AFTER, BYPASS_BEFORE
from pipeledger.evidence_pack._history import HistoryFacts
from pipeledger.evidence_pack._index import ANOMALY_KIND, RAISED
from pipeledger.evidence_pack._summary import ScopeCoverage
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.json_codec import loads
from pipeledger.ledger.chain import event_from_data
from pipeledger.period import Period
from pipeledger.policy.deployment_context import interned
from pipeledger.sinks.contract import EventFilter, Ledger
from pipeledger.timeutil import epoch_micros, from_epoch_micros

Key = tuple[str, str | None, str]  # owner, repository, id (as deployment_context joins)

_DEPLOYMENT = EventKind.DEPLOYMENT.value
_RUN = EventKind.PIPELINE_RUN.value
_APPROVAL = EventKind.DEPLOYMENT_APPROVAL.value
_REVIEW = EventKind.CHANGE_REVIEW.value
_PERMISSION = EventKind.PERMISSION_CHANGE.value
_PROTECTION = EventKind.PROTECTION_CHANGE.value
_GATE = EventKind.GATE_DECISION.value


_NONE = 2**63 - 1  # no such time (the summaries keep the earliest)


class Deployments:
    """Each deployment's status events, summed up as they arrive in chain order, in a few
    numbers each (arrays, one slot per deployment, about 60 bytes beside its key): the head
    (the first ``created`` status by time, else the first status, as
    :func:`pipeledger.policy.deployment_context.deployment_context` orders them) as its
    rank and seq, the environment of the first status in that order that names one, the
    first success and failure, and whether any status lies in the period. The head's commit
    and run are read afterwards, for the deployments that need them (:func:`_heads`)."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.index: dict[Key, int] = {}
        self.head_created = array("b")  # 0 when the head is a ``created`` status
        self.head_time = array("q")  # microseconds since 1970
        self.head_seq = array("q")
        self.env_created = array("b")
        self.env_time = array("q")
        self.env_seq = array("q")
        self.env_name = array("i")  # index into ``names``, -1: none yet
        self.names: list[str] = []
        self._name_index: dict[str, int] = {}
        self.succeeded = array("q")
        self.failed = array("q")
        self.in_period = array("b")

    def add(self, key: Key, seq: int, body: dict[str, Any]) -> None:
        not_created = int(body["action"] != "created")
        moment = parse_time(body["occurred_at"])
        at = epoch_micros(moment)
        slot = self.index.get(key)
        if slot is None:
            slot = self.index[key] = len(self.index)
            self.head_created.append(not_created)
            self.head_time.append(at)
            self.head_seq.append(seq)
            self.env_created.append(1)
            self.env_time.append(_NONE)
            self.env_seq.append(_NONE)
            self.env_name.append(-1)
            self.succeeded.append(_NONE)
            self.failed.append(_NONE)
            self.in_period.append(0)
        elif (not_created, at, seq) < (
            self.head_created[slot],
            self.head_time[slot],
            self.head_seq[slot],
        ):
            self.head_created[slot], self.head_time[slot] = not_created, at
            self.head_seq[slot] = seq
        if self.period.contains(moment):
            self.in_period[slot] = 1
        environment = body["scope"].get("environment")
        if environment and (
            self.env_name[slot] < 0
            or (not_created, at, seq)
            < (self.env_created[slot], self.env_time[slot], self.env_seq[slot])
        ):
            self.env_created[slot], self.env_time[slot] = not_created, at
            self.env_seq[slot] = seq
            self.env_name[slot] = self._name(environment)
        state = str(body.get("outcome") or body["action"]).lower()
        if state in SUCCESS_STATES and at < self.succeeded[slot]:
            self.succeeded[slot] = at
        if state in FAILURE_STATES and at < self.failed[slot]:
            self.failed[slot] = at

    def _name(self, environment: str) -> int:
        found = self._name_index.get(environment)
        if found is None:
            found = self._name_index[environment] = len(self.names)
            self.names.append(environment)
        return found

    def environment(self, slot: int) -> str | None:
        name = self.env_name[slot]
        return self.names[name] if name >= 0 else None

    def time(self, column: array[int], slot: int) -> datetime | None:
        value = column[slot]
        return None if value == _NONE else from_epoch_micros(value)

    def moment(self, slot: int) -> int:
        """When DORA counts the deployment: first success, else first failure, else its
        head (:attr:`pipeledger.dora.deploys.ProductionDeploy.moment`)."""
        for value in (self.succeeded[slot], self.failed[slot]):
            if value != _NONE:
                return value
        return self.head_time[slot]


class ChainPass:
    """Read 1: called with every verified record's parsed body by the chain check."""

    def __init__(self, period: Period) -> None:
        self.superseded: set[str] = set()
        self.deployments = Deployments(period)

    def __call__(self, seq: int, body: dict[str, Any]) -> None:
        replaced = body.get("supersedes")
        if replaced:
            self.superseded.update(replaced)
        if body.get("kind") != _DEPLOYMENT:
            return
        try:
            scope = body["scope"]
            correlation = body.get("correlation") or {}
            key = (
                sys.intern(scope["owner"]),
                interned(scope.get("repository")),
                correlation.get("deployment_id") or body["id"],
            )
            self.deployments.add(key, seq, body)
        except (KeyError, TypeError, ValueError, AttributeError):
            event_from_data(seq, body)  # names the record that is not an event
            raise


@dataclass
class _Wanted:
    """The keys read 2 keeps events by."""

    deployments: set[Key] = field(default_factory=set)
    runs: set[Key] = field(default_factory=set)  # runs, approvals, gate decisions
    links: set[Key] = field(default_factory=set)  # anomaly links: deployment:…, run:…
    review_links: set[Key] = field(default_factory=set)  # sha:…, deployment:…


@dataclass
class PeriodHistory:
    """What the pack is built from: the kept events in chain order, the DORA summaries of
    the production deployments not kept whole, the coverage table and the history checks."""

    events: list[AuditEvent]
    production: list[ProductionSummary]
    coverage: list[dict[str, Any]]
    history: HistoryFacts


def _plan(
    ledger: Ledger, chain: ChainPass, options: PackOptions
) -> tuple[_Wanted, list[ProductionSummary]]:
    """Which deployments are kept whole (their keys, for read 2), and the summaries of the
    other production deployments."""
    period, settings = options.period, options.dora_settings
    found = chain.deployments
    counted = (epoch_micros(period.start), epoch_micros(period.end + settings.failure_window))
    whole: list[tuple[Key, int]] = []
    production: list[tuple[Key, int]] = []
    for key, slot in found.index.items():
        # A status in the period is an event of the period: its deployment is kept whole, or
        # the index would assemble a deployment from part of its statuses.
        if found.in_period[slot]:
            whole.append((key, slot))
        elif settings.is_production(found.environment(slot)):
            in_reach = counted[0] <= found.moment(slot) <= counted[1]
            (whole if in_reach else production).append((key, slot))
    heads = _heads(ledger, {found.head_seq[slot] for _, slot in (*whole, *production)})
    wanted, summaries = _Wanted(), []
    for key, slot in production:
        sha = heads[found.head_seq[slot]][0]
        if sha is None:
            whole.append((key, slot))  # its run names its commit
            continue
        owner, repo, ident = key
        summaries.append(
            ProductionSummary(
                repository=sys.intern(f"{owner}/{repo}") if repo else owner,
                environment=found.environment(slot) or "",
                deployment_key=ident,
                when=from_epoch_micros(found.head_time[slot]),
                sha=sha,
                succeeded_at=found.time(found.succeeded, slot),
                failed_at=found.time(found.failed, slot),
            )
        )
    for (owner, repo, ident), slot in whole:
        sha, run_id = heads[found.head_seq[slot]]
        wanted.deployments.add((owner, repo, ident))
        wanted.links.add((owner, repo, f"deployment:{ident}"))
        wanted.review_links.add((owner, repo, f"deployment:{ident}"))
        if sha:
            wanted.review_links.add((owner, repo, f"sha:{sha}"))
        if run_id:
            wanted.runs.add((owner, repo, run_id))
            wanted.links.add((owner, repo, f"run:{run_id}"))
    chain.deployments = Deployments(period)
    return wanted, summaries


def _heads(ledger: Ledger, seqs: set[int]) -> dict[int, tuple[str | None, str | None]]:
    """Read 1b, of the deployment events alone: the commit and run id of the head statuses
    at ``seqs``."""
    found: dict[int, tuple[str | None, str | None]] = {}
    for stored in ledger.stored_bodies(EventFilter(kinds=(EventKind.DEPLOYMENT,))):
        if stored.seq in seqs:
            data = loads(stored.body)
            found[stored.seq] = (data.get("sha"), (data.get("correlation") or {}).get("run_id"))
    return found


def read_period(ledger: Ledger, chain: ChainPass, options: PackOptions) -> PeriodHistory:
    """Reads 2 to 4 (see the module's docstring), after read 1 filled ``chain``."""
    wanted, production = _plan(ledger, chain, options)
    gone = frozenset(chain.superseded)
    chain.superseded.clear()
    kept: dict[int, AuditEvent] = {}
    history, coverage = _read_everything(ledger, options, wanted, gone, kept)
    _read_reviews(ledger, wanted, gone, kept)
    return PeriodHistory(
        events=[kept[seq] for seq in sorted(kept)],
        production=production,
        coverage=coverage.rows(options.period),
        history=history,
    )


def _read_everything(
    ledger: Ledger,
    options: PackOptions,
    wanted: _Wanted,
    gone: frozenset[str],
    kept: dict[int, AuditEvent],
) -> tuple[HistoryFacts, ScopeCoverage]:
    """Read 2: every record in chain order; fills ``kept`` and counts the coverage table
    and the history checks over every standing fact."""
    period = options.period
    windows = _Windows(
        access=(period.start - options.lookback, period.end),
        bypass=(period.start - BYPASS_BEFORE, period.end + BYPASS_AFTER),
    )
    history = HistoryFacts()
    coverage = ScopeCoverage()
    for stored in ledger.stored_bodies(EventFilter()):
        seq, kind = stored.seq, stored.kind
        data = loads(stored.body)
        try:
            if data["id"] in gone:
                continue
            at = parse_time(data["occurred_at"])
            scope = data["scope"]
            owner, repo = scope["owner"], scope.get("repository")
            correlation = data.get("correlation") or {}
            platform, instance = data["platform"], data["instance"]
        except (KeyError, TypeError, ValueError, AttributeError):
            event_from_data(seq, data)  # names the record that is not an event
            raise
        history.add(at, kind, scope.get("environment"), period)
        coverage.add(platform, instance, owner, repo, at, period)
        if period.contains(at) or _wanted(
            kind, data, at, owner, repo, correlation, wanted, windows
        ):
            kept[seq] = event_from_data(seq, data)
    return history, coverage


@dataclass(frozen=True)
class _Windows:
    """Times (both ends included) from which the evidence pages look events up by time:
    access changes in the look-back before a deployment, bypasses around it."""

    access: tuple[datetime, datetime]
    bypass: tuple[datetime, datetime]


def _wanted(
    kind: str,
    data: dict[str, Any],
    at: datetime,
    owner: str,
    repo: str | None,
    correlation: dict[str, Any],
    wanted: _Wanted,
    windows: _Windows,
) -> bool:
    """Whether an event outside the period is one the pack uses (see the module)."""
    if kind == _DEPLOYMENT:
        return (owner, repo, correlation.get("deployment_id") or data["id"]) in wanted.deployments
    if kind in (_RUN, _APPROVAL, _GATE):
        run_id = correlation.get("run_id")
        return bool(run_id) and (owner, repo, run_id) in wanted.runs
    if kind == _PERMISSION or (kind == _PROTECTION and data["action"] != "bypassed"):
        return windows.access[0] <= at <= windows.access[1]
    if kind == _PROTECTION:
        return windows.bypass[0] <= at <= windows.bypass[1]
    if kind == ANOMALY_KIND and data["action"] == RAISED:
        return any((owner, repo, link) in wanted.links for link in _anomaly_links(correlation))
    return False


def _anomaly_links(correlation: dict[str, Any]) -> Iterable[str]:
    """As :func:`pipeledger.evidence_pack._index._links` files an alert."""
    if correlation.get("deployment_id"):
        yield f"deployment:{correlation['deployment_id']}"
    if correlation.get("run_id"):
        yield f"run:{correlation['run_id']}"


def _review_links(data: dict[str, Any]) -> set[str]:
    """As :func:`pipeledger.policy.deployment_context._review_links` files a review."""
    correlation = data.get("correlation") or {}
    target = data.get("target") or {}
    links = {
        f"deployment:{correlation['deployment_id']}" if correlation.get("deployment_id") else "",
        f"sha:{data['sha']}" if data.get("sha") else "",
        f"sha:{target['merge_commit_sha']}" if target.get("merge_commit_sha") else "",
    }
    links.discard("")
    return links


def _alert_id(data: dict[str, Any]) -> str:
    """The alert an acknowledgement answers, as the evidence index files it."""
    return str((data.get("attributes") or {}).get("alert_id"))


def _read_reviews(
    ledger: Ledger, wanted: _Wanted, gone: frozenset[str], kept: dict[int, AuditEvent]
) -> None:
    """Reads 3 and 4: the reviews joined to the kept deployments, their pull requests'
    other reviews, and the acknowledgements of the kept alerts."""
    links = set(wanted.review_links)
    alerts: set[str] = set()
    for event in kept.values():
        kind = event.kind
        if kind is EventKind.PIPELINE_RUN and event.sha:
            # A deployment that records no commit deploys its run's.
            links.add((event.scope.owner, event.scope.repository, f"sha:{event.sha}"))
        elif kind is EventKind.ANOMALY and event.action == RAISED:
            alerts.add(str(event.attributes.get("alert_id")))
    pulls = _read_linked(ledger, links, alerts, gone, kept)
    if not pulls:
        return
    # Read 4: every review of those pull requests.
    for stored in ledger.stored_bodies(EventFilter(kinds=(EventKind.CHANGE_REVIEW,))):
        if stored.seq in kept:
            continue
        data = loads(stored.body)
        if data["id"] in gone:
            continue
        pull = (data.get("correlation") or {}).get("pull_request")
        if pull and (data["scope"]["owner"], data["scope"].get("repository"), pull) in pulls:
            kept[stored.seq] = event_from_data(stored.seq, data)


def _read_linked(
    ledger: Ledger,
    links: set[Key],
    alerts: set[str],
    gone: frozenset[str],
    kept: dict[int, AuditEvent],
) -> set[Key]:
    """Read 3: the reviews filed under ``links``, and the acknowledgements of ``alerts``;
    returns the pull requests of the reviews found."""
    pulls: set[Key] = set()
    selection = EventFilter(kinds=(EventKind.CHANGE_REVIEW, EventKind.ANOMALY))
    for stored in ledger.stored_bodies(selection):
        data = loads(stored.body)
        if data["id"] in gone:
            continue
        scope = data["scope"]
        owner, repo = scope["owner"], scope.get("repository")
        if stored.kind == _REVIEW:
            if not any((owner, repo, link) in links for link in _review_links(data)):
                continue
            pull = (data.get("correlation") or {}).get("pull_request")
            if pull:
                pulls.add((owner, repo, pull))
        elif data["action"] == RAISED or _alert_id(data) not in alerts:
            continue
        if stored.seq not in kept:
            kept[stored.seq] = event_from_data(stored.seq, data)
    return pulls
