"""pipeledger as a GitHub custom deployment protection rule: on a ``deployment_protection_rule``
delivery it judges the deployment with the policy (the code path of ``check``), records the
``gate.decision`` and answers GitHub through the delivery's ``deployment_callback_url`` with
the App's installation token.

Durable: the request is stored with the delivery (before the 2xx) under
``github.protection-rule/requested/<delivery>``, and the answer under ``…/answered/<delivery>``;
a server that stops in between answers the leftovers when it starts again. Time-boxed: a
decision that cannot be made in ``--decision-timeout`` seconds (API down) is a rejection, or
an approval with a warning under ``--fail-open``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as DecisionTimeout
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from pipeledger.plugin import (
    UNKNOWN_ACTOR,
    AdapterSettings,
    AuditEvent,
    CiJob,
    Decision,
    Delivery,
    Evaluation,
    FailOn,
    GateEvidence,
    Handling,
    LedgerAccess,
    LoadedPolicy,
    MalformedDelivery,
    PipeledgerError,
    ReceiverSettings,
    UsageError,
    decision_event,
    docs_url,
    environment_session,
    evaluate_evidence,
    load_policy,
)
from pipeledger_github.auth import (
    APP_ID,
    APP_KEY,
    APP_KEY_PATH,
    installation_token,
    resolve_endpoint,
)
from pipeledger_github.normalize.fields import Oddities, actor, ident_of, run_id_from_url, text
from pipeledger_github.normalize.pipelines import deployment_events

REQUESTED = "github.protection-rule/requested/"
ANSWERED = "github.protection-rule/answered/"
LOG = logging.getLogger("pipeledger.serve.github")
Json = Mapping[str, Any]


@dataclass(frozen=True)
class Request:
    """What GitHub asked, kept in the ledger until it is answered."""

    delivery: str
    callback_url: str
    installation: int
    repository: str
    environment: str
    run_id: str
    sha: str | None
    ref: str | None
    sender: str | None

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, text: str) -> Request:
        return cls(**json.loads(text))


class ProtectionRule:
    def __init__(self, settings: ReceiverSettings, instance: str, loaded: LoadedPolicy) -> None:
        self.settings = settings
        self.instance = instance
        self.loaded = loaded
        self.api_url = resolve_endpoint(settings.api_url, settings.environ).api_url
        self._ledger: LedgerAccess | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="protection-rule")
        # Judgements run apart from the answers that wait for them (and may time out).
        self._judges = ThreadPoolExecutor(max_workers=4, thread_name_prefix="protection-judge")
        self._lock = threading.Lock()
        self._busy: set[str] = set()

    @classmethod
    def create(cls, settings: ReceiverSettings, instance: str) -> ProtectionRule:
        if not settings.environ.get(APP_ID) or not (
            settings.environ.get(APP_KEY) or settings.environ.get(APP_KEY_PATH)
        ):
            raise UsageError(
                "The GitHub deployment protection rule (--policy) answers GitHub as a GitHub"
                f" App, but {APP_ID} and {APP_KEY} (or {APP_KEY_PATH}) are not both set.",
                f"Set them to the App's id and private key ({docs_url('serve')}).",
            )
        return cls(settings, instance, load_policy(str(settings.policy_path)))

    # -- on the event loop: pure, no network -------------------------------------------------

    def handle(self, delivery: Delivery) -> Handling:
        if text(delivery.payload, "action") != "requested":
            return Handling()
        request = self._request(delivery)
        deployment = delivery.payload.get("deployment")
        events: list[AuditEvent] = []
        if isinstance(deployment, Mapping):
            events = deployment_events(
                deployment, [], self.instance, repository=request.repository, oddities=Oddities()
            )
        return Handling(
            events=events,
            cursors={REQUESTED + request.delivery: request.dumps()},
            after_commit=lambda: self.answer(request),
        )

    def _request(self, delivery: Delivery) -> Request:
        payload = delivery.payload
        callback = text(payload, "deployment_callback_url")
        installation = payload.get("installation")
        installation_id = ident_of(installation if isinstance(installation, Mapping) else None)
        repository = payload.get("repository")
        full_name = text(repository, "full_name") if isinstance(repository, Mapping) else None
        environment = text(payload, "environment")
        run_id = run_id_from_url(callback)
        if not (callback and installation_id and full_name and environment and run_id):
            raise MalformedDelivery(
                "unusable_payload",
                "deployment_protection_rule delivery without deployment_callback_url (with its"
                " run), installation.id, repository.full_name or environment",
            )
        deployment = payload.get("deployment")
        sender = actor(payload.get("sender"))
        return Request(
            delivery=delivery.delivery_id,
            callback_url=callback,
            installation=int(installation_id),
            repository=full_name,
            environment=environment,
            run_id=run_id,
            sha=text(payload, "sha")
            or (text(deployment, "sha") if isinstance(deployment, Mapping) else None),
            ref=text(payload, "ref"),
            sender=sender.login if sender else None,
        )

    # -- on worker threads ---------------------------------------------------------------------

    def start(self, ledger: LedgerAccess) -> None:
        """Answer what a previous run stored but did not answer."""
        self._ledger = ledger
        answered = {key[len(ANSWERED) :] for key, _ in ledger.cursors_with_prefix(ANSWERED)}
        for key, value in ledger.cursors_with_prefix(REQUESTED):
            if key[len(REQUESTED) :] not in answered:
                self._pool.submit(self.answer, Request.loads(value))

    def stop(self) -> None:
        self._pool.shutdown(wait=True)
        self._judges.shutdown(wait=False, cancel_futures=True)

    def answer(self, request: Request) -> None:
        """Judge, record, call GitHub back, mark answered; once per delivery."""
        ledger = self._ledger
        if ledger is None:
            return
        with self._lock:
            if request.delivery in self._busy:
                return
            self._busy.add(request.delivery)
        try:
            if ledger.cursor(ANSWERED + request.delivery) is not None:
                return
            state, comment, record = self._judge(request)
            ledger.commit([record], {})
            self._call_back(request, state, comment)
            ledger.commit([], {ANSWERED + request.delivery: state})
            LOG.info("deployment of %s to %s: %s", request.repository, request.environment, state)
        except PipeledgerError as error:
            LOG.error("protection rule for delivery %s not answered: %s", request.delivery, error)
        finally:
            with self._lock:
                self._busy.discard(request.delivery)

    def _judge(self, request: Request) -> tuple[str, str, AuditEvent]:
        now = datetime.now(UTC)
        future = self._judges.submit(self._evidence_and_evaluation, request, now)
        try:
            evidence, evaluation = future.result(timeout=self.settings.decision_timeout)
        except DecisionTimeout:
            reason = f"no decision within {self.settings.decision_timeout:g} s"
            return self._undecided(request, now, reason)
        except PipeledgerError as error:
            return self._undecided(request, now, error.message)
        failed = evaluation.fails(FailOn.ERROR)
        decision = Decision.FAIL if failed else Decision.PASS
        job = self._job(request, evidence)
        record = self._record(job, request, decision, evaluation, now, {})
        return ("rejected" if failed else "approved"), self._comment(evaluation), record

    def _evidence_and_evaluation(
        self, request: Request, now: datetime
    ) -> tuple[GateEvidence, Evaluation]:
        from pipeledger_github.adapter import GitHubAdapter

        token = installation_token(self.settings.environ, self.api_url, request.installation)
        environ = {
            **self.settings.environ,
            "GITHUB_TOKEN": token,
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": request.repository,
            "GITHUB_RUN_ID": request.run_id,
            **({"GITHUB_SHA": request.sha} if request.sha else {}),
            **({"GITHUB_REF": request.ref} if request.ref else {}),
        }
        settings = AdapterSettings(
            api_url=self.api_url,
            environ=environ,
            max_wait=0.0,
            request_timeout=min(30.0, self.settings.decision_timeout),
            max_retries=1,
        )
        adapter = GitHubAdapter.create(settings)
        policy = self.loaded.policy
        teams = [t for t in policy.team_names() if t not in policy.teams]
        evidence = adapter.gate_evidence(request.environment, teams)
        evaluation = evaluate_evidence(self.loaded, evidence, request.environment, now)
        return evidence, evaluation

    def _undecided(
        self, request: Request, now: datetime, reason: str
    ) -> tuple[str, str, AuditEvent]:
        job = self._job(request, None)
        record = self._record(job, request, Decision.ERROR, None, now, {"error": reason})
        state = "approved" if self.settings.fail_open else "rejected"
        why = "fails open (--fail-open)" if self.settings.fail_open else "fails closed"
        comment = f"pipeledger could not judge this deployment ({reason}); {state}: the rule {why}."
        return state, comment, record

    def _job(self, request: Request, evidence: GateEvidence | None) -> CiJob:
        owner, _, name = request.repository.partition("/")
        if evidence is not None:
            from pipeledger.plugin import job_from_run, run_event

            return job_from_run(run_event(evidence))
        return CiJob(
            platform="github",
            instance=self.instance,
            owner=owner,
            repository=name,
            run_id=request.run_id,
            run_attempt=None,
            actor=UNKNOWN_ACTOR,
            ref=request.ref,
            sha=request.sha,
        )

    def _record(
        self,
        job: CiJob,
        request: Request,
        decision: Decision,
        evaluation: Evaluation | None,
        now: datetime,
        extra: dict[str, Any],
    ) -> AuditEvent:
        details = {
            "gate": "github-deployment-protection-rule",
            "delivery": request.delivery,
            "fail_open": self.settings.fail_open,
            **extra,
        }
        return decision_event(
            job,
            environment=request.environment,
            decision=decision,
            now=now,
            policy=self.loaded.policy,
            evaluation=evaluation,
            details=details,
        )

    def _comment(self, evaluation: Evaluation) -> str:
        failing = [f for f in evaluation.findings if f.severity.value == "error"]
        if not failing:
            return f"pipeledger: the policy {self.loaded.policy.path} passes."
        lines = [f"pipeledger: {len(failing)} policy rule(s) failed:"]
        lines += [f"- {f.rule_id}: {f.message}" for f in failing[:10]]
        lines.append(f"Details: {docs_url('serve', 'the-github-deployment-protection-rule')}")
        return "\n".join(lines)[:1000]

    def _call_back(self, request: Request, state: str, comment: str) -> None:
        token = installation_token(self.settings.environ, self.api_url, request.installation)
        body = {"environment_name": request.environment, "state": state, "comment": comment}
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        try:
            answer = environment_session(request.callback_url).post(
                request.callback_url, json=body, headers=headers, timeout=30
            )
        except requests.RequestException as error:
            raise _callback_failed(request, type(error).__name__) from None
        if answer.status_code >= 300:
            raise _callback_failed(request, f"HTTP {answer.status_code}")


def _callback_failed(request: Request, what: str) -> PipeledgerError:
    return PipeledgerError(
        f"GitHub's deployment callback for {request.repository} run {request.run_id} failed"
        f" ({what}).",
        "The request stays in the ledger and is answered again when serve restarts.",
    )
