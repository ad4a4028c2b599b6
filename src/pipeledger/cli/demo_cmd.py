"""``pipeledger demo``: the real adapters and ledger on bundled recorded responses, offline."""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pipeledger.cli.command_context import Context
from pipeledger.cli.options import add_option
from pipeledger.collect.adapter import AdapterSettings
from pipeledger.collect.progress import SilentProgress
from pipeledger.collect.run import collect_into
from pipeledger.errors import ExitCode, VerificationFailed
from pipeledger.events import AuditEvent, EventKind
from pipeledger.facts import without_superseded
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.policy.audit import audit_ledger
from pipeledger.policy.loader import load_policy
from pipeledger.policy.model import FailOn
from pipeledger.registry import available_adapters, load_adapter
from pipeledger.replay import serve_recorded
from pipeledger.report.model import Report
from pipeledger.report.text import render as render_text
from pipeledger.sinks.contract import EventFilter, SinkSettings
from pipeledger.sinks.fanout import SinkSet


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo", help="run offline on bundled recorded API responses"
    )
    add_option(parser, "--ledger", shown_default="a temporary one", help="SQLite file to write")
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    next_steps: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pipeledger-demo-") as scratch:
        path = Path(args.ledger) if args.ledger else Path(scratch) / "demo.db"
        if path.exists():
            path.unlink()
        url = f"sqlite:///{path.resolve()}"
        sinks = SinkSet.open([url], SinkSettings(environ={}))
        try:
            next_steps = _collect_demos(sinks, context)
            _report(sinks, context)
        finally:
            sinks.close()
    for text in next_steps:
        context.out(text)
    return int(ExitCode.OK)


def _collect_demos(sinks: SinkSet, context: Context) -> list[str]:
    """Run every platform's bundled scenario; return each platform's next-steps text."""
    next_steps: list[str] = []
    for platform in available_adapters():
        adapter_class = load_adapter(platform)
        scenario = adapter_class.demo_scenario()
        if scenario is None:
            continue
        with serve_recorded(scenario.responses) as base_url:
            settings = AdapterSettings(api_url=base_url, environ=scenario.environ, max_retries=0)
            adapter = adapter_class.create(settings)
            summary = collect_into(adapter, scenario.request, sinks, SilentProgress())
        context.out(
            f"{platform}: collected {summary.stored} events from recorded API responses"
            f" through the real {platform} adapter (offline, served on 127.0.0.1)."
        )
        if scenario.next_steps:
            next_steps.append(scenario.next_steps)
    return next_steps


def _report(sinks: SinkSet, context: Context) -> None:
    report = verify_rows(sinks.ledger.rows())
    if not report.ok:
        raise VerificationFailed("The demo ledger failed verification.")
    context.out(
        f"ledger {sinks.ledger.display_url}: {report.checked} records, hash chain verified"
        f" (head {report.head_hash[:16]}…).\n"
    )
    events = without_superseded(r.event for r in sinks.ledger.records(EventFilter()))
    _section(context, "Who ran what", events, EventKind.PIPELINE_RUN, _run_line)
    _section(
        context,
        "Who deployed what where",
        _latest_per_deployment(events),
        EventKind.DEPLOYMENT,
        _deploy_line,
    )
    _section(context, "Who approved", events, EventKind.DEPLOYMENT_APPROVAL, _approval_line)
    reviews = _distinct_reviews(events)
    _section(
        context, "Who reviewed the deployed code", reviews, EventKind.CHANGE_REVIEW, _review_line
    )
    _audit(sinks, context)


def _audit(sinks: SinkSet, context: Context) -> None:
    """Judge the demo history with the bundled SOC 2 baseline, as `pipeledger audit` would."""
    policy_file = resources.files("pipeledger.policy").joinpath("baseline.yml")
    with resources.as_file(policy_file) as path:
        loaded = load_policy(str(path))
    evaluation = audit_ledger(loaded, sinks.ledger)
    report = Report.of("audit", loaded.policy, evaluation, FailOn.ERROR, datetime.now(UTC))
    context.out("What the SOC 2 baseline policy (examples/policies/baseline.yml) says about it:")
    context.out(render_text(report))


def _latest_per_deployment(events: list[AuditEvent]) -> list[AuditEvent]:
    """One line per deployment: its latest status."""
    latest: dict[str, AuditEvent] = {}
    for event in events:
        if event.kind is not EventKind.DEPLOYMENT:
            continue
        key = f"{event.platform}:{event.correlation.get('deployment_id', event.id)}"
        if key not in latest or event.occurred_at >= latest[key].occurred_at:
            latest[key] = event
    return sorted(latest.values(), key=lambda e: e.occurred_at, reverse=True)


def _distinct_reviews(events: list[AuditEvent]) -> list[AuditEvent]:
    """A review is recorded once per deployment it vouches for; show it once."""
    seen: dict[tuple[object, ...], AuditEvent] = {}
    for event in events:
        if event.kind is EventKind.CHANGE_REVIEW:
            key = (
                event.platform,
                event.scope.owner,
                event.scope.repository,
                event.correlation.get("pull_request"),
                event.actor.login,
                event.action,
                event.occurred_at,
            )
            seen.setdefault(key, event)
    return list(seen.values())


def _section(
    context: Context, title: str, events: list[AuditEvent], kind: EventKind, describe: Any
) -> None:
    chosen = [e for e in events if e.kind is kind]
    context.out(f"{title} ({len(chosen)}):")
    for event in chosen[:12]:
        context.out("  " + describe(event))
    if len(chosen) > 12:
        context.out(f"  … and {len(chosen) - 12} more")
    context.out()


def _where(event: AuditEvent) -> str:
    return event.scope.full_name or event.scope.owner


def _when(event: AuditEvent) -> str:
    return f"{event.occurred_at:%Y-%m-%d %H:%M}Z"


def _run_line(event: AuditEvent) -> str:
    initial = event.attributes.get("initial_actor")
    rerun = f" (re-run; first run by {initial})" if initial and initial != event.actor.login else ""
    return (
        f"{_when(event)}  {event.actor.login} ran {event.attributes.get('workflow', 'a workflow')}"
        f" on {event.ref} in {_where(event)}: {event.outcome or event.action}{rerun}"
    )


def _deploy_line(event: AuditEvent) -> str:
    sha = (event.sha or "")[:7]
    return (
        f"{_when(event)}  {event.actor.login} deployed {event.ref} ({sha}) to"
        f" {event.scope.environment} in {_where(event)}: {event.outcome or event.action}"
    )


def _approval_line(event: AuditEvent) -> str:
    run = event.correlation.get("run_id", "?")
    return (
        f"{event.actor.login} {event.action} the deployment to {event.scope.environment}"
        f" of run {run} in {_where(event)}"
    )


def _review_line(event: AuditEvent) -> str:
    pull = event.correlation.get("pull_request", "?")
    author = (event.target or {}).get("author", "?")
    return f"{event.actor.login} {event.action} PR #{pull} by {author} in {_where(event)}"
