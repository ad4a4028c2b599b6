"""``pipeledger check``: the deploy gate inside a CI job. Fetches the running job's evidence
through the platform's adapter, records it with the verdict, evaluates the policy and exits
0 (pass), 1 (violations, or a deployment still waiting for its approval), 2 (policy or usage
error) or 3 (platform failure, fail closed)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from pipeledger import registry
from pipeledger.cli.api_options import adapter_settings, add_api_options
from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.findings_output import (
    Target,
    add_policy_options,
    emit,
    parse_fail_on,
    parse_targets,
    require_policy,
)
from pipeledger.cli.options import add_flag, add_option
from pipeledger.collect.adapter import CiJob, GateEvidence, GateSource
from pipeledger.errors import (
    AwaitingApproval,
    ExitCode,
    InternalError,
    PipeledgerError,
    PlatformError,
    SinkError,
    UsageError,
)
from pipeledger.events import AuditEvent
from pipeledger.policy.engine import Evaluation
from pipeledger.policy.gate_decision import (
    Decision,
    decision_event,
    evaluate_evidence,
    job_from_run,
    run_event,
)
from pipeledger.policy.loader import LoadedPolicy, load_policy
from pipeledger.policy.model import FailOn
from pipeledger.report.model import Report, ReportFormat
from pipeledger.timeutil import parse_when


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "check", help="gate the current CI job's deployment against a policy"
    )
    add_policy_options(parser)
    add_option(parser, "--environment", help="the environment this job deploys to")
    add_option(parser, "--platform", shown_default="detected from the CI", help="adapter to use")
    add_flag(
        parser,
        "--fail-open",
        help="if the platform cannot be reached, warn and exit 0 instead of failing closed",
    )
    # A gate in a running job should not wait long for the API.
    add_api_options(parser, max_wait=60.0, retries=3)
    # For tests and rehearsals only: judge deploy windows at this time instead of now.
    add_option(parser, "--now", help=argparse.SUPPRESS)
    add_sink_option(parser)
    return parser


@dataclass(frozen=True)
class Gate:
    """One ``check`` invocation: what it was asked and what it has loaded."""

    args: argparse.Namespace
    context: Context
    loaded: LoadedPolicy
    targets: list[Target]
    fail_on: FailOn
    now: datetime

    @property
    def environment(self) -> str | None:
        return self.args.environment  # type: ignore[no-any-return]

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {
            "fail_on": self.fail_on.value,
            "fail_open": bool(self.args.fail_open),
        }
        if self.args.now:
            details["clock_overridden"] = True
        return details

    def report(
        self, decision: Decision, evaluation: Evaluation | None, error: str | None = None
    ) -> Report:
        return Report(
            command="check",
            policy=self.loaded.policy,
            decision=decision.value,
            fail_on=self.fail_on,
            evaluation=evaluation,
            generated_at=self.now,
            environment=self.environment,
            error=error,
        )

    def decision_record(
        self, job: CiJob, decision: Decision, evaluation: Evaluation | None, extra: dict[str, Any]
    ) -> AuditEvent:
        return decision_event(
            job,
            environment=self.environment,
            decision=decision,
            now=self.now,
            policy=self.loaded.policy,
            evaluation=evaluation,
            details={**self.details(), **extra},
        )


def run(args: argparse.Namespace, context: Context) -> int:
    policy_path = require_policy(args, "check")
    gate = Gate(
        args=args,
        context=context,
        fail_on=parse_fail_on(args.fail_on),
        targets=parse_targets(args.format, args.output),
        loaded=load_policy(policy_path),
        now=_now(args, context),
    )
    source = select_gate_source(args, context)
    try:
        return _judge(gate, source)
    except (PipeledgerError, KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as error:  # a bug: still leave an `error` decision behind, then exit 3
        internal = InternalError.from_exception(error)
        try:
            _record_without_evidence(gate, source, Decision.ERROR, internal)
        except Exception as also:
            context.err(f"pipeledger: warning: the error decision was not recorded: {also!r}")
        raise internal from error


def _judge(gate: Gate, source: GateSource) -> int:
    args, context = gate.args, gate.context
    policy = gate.loaded.policy
    teams = [t for t in policy.team_names() if t not in policy.teams]
    try:
        evidence = source.gate_evidence(args.environment, teams)
        job = job_from_run(run_event(evidence))
    except AwaitingApproval as error:
        _refuse_unapproved(gate, source, error)
    except PlatformError as error:
        return _platform_failure(gate, source, error)
    evaluation = _evaluate(gate, evidence)
    decision = Decision.FAIL if evaluation.fails(gate.fail_on) else Decision.PASS
    record = gate.decision_record(job, decision, evaluation, {})
    _record(gate, [*evidence.events, record])
    emit(gate.report(decision, evaluation), gate.targets, context)
    return int(ExitCode.VIOLATIONS if decision is Decision.FAIL else ExitCode.OK)


def _evaluate(gate: Gate, evidence: GateEvidence) -> Evaluation:
    keep = any(t.output_format is ReportFormat.JUNIT for t in gate.targets)
    return evaluate_evidence(gate.loaded, evidence, gate.environment, gate.now, keep_subjects=keep)


def select_gate_source(args: argparse.Namespace, context: Context) -> GateSource:
    """The adapter that is a gate source: the one named, or the one whose CI this is."""
    settings = adapter_settings(args, context)
    entries = registry.adapter_entries()  # read once: each read scans every distribution
    names = [args.platform] if args.platform else registry.available_adapters(entries)
    skipped: list[str] = []
    for name in names:
        try:
            adapter_class = registry.load_adapter(name, entries)
        except UsageError:
            if args.platform:
                raise
            skipped.append(name)
            continue
        if not issubclass(adapter_class, GateSource):
            if args.platform:
                raise UsageError(f"The {name} adapter cannot act as a gate (no GateSource).")
            continue
        if args.platform or adapter_class.detects_ci(context.environ):
            adapter = adapter_class.create(settings)
            assert isinstance(adapter, GateSource)
            return adapter
    unloaded = f" ({', '.join(skipped)} could not be loaded)" if skipped else ""
    raise UsageError(
        f"check found no CI it recognises{unloaded}.",
        "Run it inside a CI job (GitHub Actions, GitLab CI) or name the adapter with --platform.",
    )


def _refuse_unapproved(gate: Gate, source: GateSource, error: AwaitingApproval) -> NoReturn:
    """The gate runs before the approval it must check: record and report a ``fail``
    decision and raise (exit 1), whatever --fail-open and --fail-on say."""
    _record_without_evidence(gate, source, Decision.FAIL, error)
    raise error


def _platform_failure(gate: Gate, source: GateSource, error: PlatformError) -> int:
    """Record and report the failure; fail closed (raise, exit 3) unless --fail-open."""
    _record_without_evidence(gate, source, Decision.ERROR, error)
    if not gate.args.fail_open:
        raise error
    gate.context.err(
        "pipeledger: WARNING: the gate could not judge this deployment and lets it through"
        f" because of --fail-open: {error.describe()}"
    )
    return int(ExitCode.OK)


def _record_without_evidence(
    gate: Gate, source: GateSource, decision: Decision, error: PipeledgerError
) -> None:
    """Record the decision for the job as its CI variables describe it, and write the report
    files; the terminal gets the error from main()."""
    job = source.ci_job()
    if job is not None:
        record = gate.decision_record(job, decision, None, {"error": error.message})
        try:
            _record(gate, [record])
        except SinkError as sink_error:
            gate.context.err(
                f"pipeledger: warning: the {decision.value} decision was not recorded: {sink_error}"
            )
    files = [t for t in gate.targets if t.output_format is not ReportFormat.TEXT]
    emit(gate.report(decision, None, error.describe()), files, gate.context)


def _record(gate: Gate, events: list[AuditEvent]) -> None:
    sinks = gate.context.open_sinks(gate.args)
    try:
        sinks.append(events, {})
    finally:
        sinks.close()
    for url, failure in sinks.failures.items():
        gate.context.err(
            f"pipeledger: warning: sink {url} failed: {failure.describe()} The decision is in"
            " the ledger and reaches that sink on the next run."
        )


def _now(args: argparse.Namespace, context: Context) -> datetime:
    if not args.now:
        return datetime.now(UTC)
    context.err(f"pipeledger: warning: the clock is set to {args.now} by --now/PIPELEDGER_NOW.")
    return parse_when(args.now, option="--now")
