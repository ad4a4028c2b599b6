"""``pipeledger collect``: pull history from a forge into the ledger and sinks."""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from pipeledger.cli.anomalies_record import detect_after_collect
from pipeledger.cli.api_options import (
    INTERACTIVE_MAX_WAIT,
    adapter_settings,
    add_api_options,
)
from pipeledger.cli.collect_progress import closing_summary, progress_for
from pipeledger.cli.color import is_terminal
from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.options import add_flag, add_option
from pipeledger.collect.adapter import (
    Adapter,
    AdapterSettings,
    CollectRequest,
    EnvironmentOption,
    ScopeOption,
)
from pipeledger.collect.run import CollectSummary, collect_into
from pipeledger.config import env_name
from pipeledger.docs_links import docs_url
from pipeledger.errors import ExitCode, PipeledgerError, UsageError
from pipeledger.registry import adapter_entries, available_adapters, load_adapter
from pipeledger.timeutil import parse_when

QUARANTINE_SHOWN = 5
# At most this many scopes at once: the HTTP client keeps as many connections open.
MAX_CONCURRENCY = 32


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "collect", help="pull runs, deployments, approvals and reviews into the ledger"
    )
    adapters = installed_adapters()
    add_option(parser, "--platform", help=f"one of: {', '.join(adapters)}")
    parser.set_defaults(adapters=adapters)
    add_platform_options(parser, adapters)
    add_option(parser, "--since", help="RFC 3339 time, date, or duration such as 7d")
    add_option(parser, "--until", help="RFC 3339 time, date, or duration such as 1h")
    # --max-wait: INTERACTIVE_MAX_WAIT on a terminal; unattended, until the next reset.
    add_api_options(parser, max_wait=None, retries=5)
    add_option(
        parser,
        "--concurrency",
        # None: the adapter's own default for the instance.
        shown_default=concurrency_defaults(adapters),
        type=int,
        metavar="N",
        help="repositories or projects collected at once, sharing one rate limit",
    )
    add_option(
        parser,
        "--no-snapshots",
        default=True,
        dest="snapshots",
        action="store_const",
        const=False,
        help="skip the permission and protection snapshots",
    )
    add_flag(
        parser,
        "--detect",
        help="then run the anomaly detectors over the collected period and record new alerts",
    )
    add_option(
        parser,
        "--policy",
        metavar="FILE",
        help="with --detect: the policy whose anomalies: tunes them",
    )
    add_sink_option(parser)
    return parser


# Each installed adapter by platform, or why it cannot be imported (said when it is chosen).
Installed = Mapping[str, type[Adapter] | UsageError]


def installed_adapters() -> dict[str, type[Adapter] | UsageError]:
    """Every adapter, loaded once for the parser (its scope options) and the run."""
    entries = adapter_entries()
    found: dict[str, type[Adapter] | UsageError] = {}
    for platform in available_adapters(entries):
        try:
            found[platform] = load_adapter(platform, entries)
        except UsageError as error:
            found[platform] = error
    return found


# An option an adapter declares for collect.
PlatformOption = ScopeOption | EnvironmentOption


def concurrency_defaults(adapters: Installed) -> str:
    """Each installed adapter's own default for --concurrency: "github: 1 on github.com, …;
    gitlab: 4"."""
    said = [
        f"{platform}: {adapter.default_concurrency_said()}"
        for platform, adapter in adapters.items()
        if not isinstance(adapter, UsageError)
    ]
    return "; ".join(said) or "1"


def platform_options(adapter: type[Adapter] | UsageError) -> tuple[PlatformOption, ...]:
    """An adapter's collect options: how it names what to collect, then the variables of its
    environment it lets the command line set. One that cannot be imported offers none."""
    if isinstance(adapter, UsageError):
        return ()
    return (*adapter.scope_options, *adapter.environment_options)


def add_platform_options(parser: argparse.ArgumentParser, adapters: Installed) -> None:
    """One group of options per platform, each option once (two adapters may share a flag);
    a flag the command has already is left to the command."""
    for platform, adapter in adapters.items():
        group = parser.add_argument_group(f"with --platform {platform}")
        for option in platform_options(adapter):
            if option.flag in parser._option_string_actions:
                continue
            if isinstance(option, ScopeOption):
                add_option(
                    group,
                    option.flag,
                    default=[],
                    dest=option.dest,
                    action="append",
                    metavar=option.metavar,
                    help=f"{option.help}; repeatable",
                )
            else:
                add_option(
                    group, option.flag, dest=option.dest, metavar=option.metavar, help=option.help
                )


def build_request(args: argparse.Namespace, adapter_class: type[Adapter]) -> CollectRequest:
    own = adapter_class.scope_options
    owners = _values(args, own, "owners")
    repositories = _values(args, own, "repositories")
    if not owners and not repositories:
        raise UsageError(
            "collect needs something to collect.",
            f"Name what to collect on {adapter_class.platform}: "
            + (", ".join(f"{o.flag} {o.metavar}" for o in own) or "its plugin declares no way")
            + ".",
        )
    since = parse_when(args.since, option="--since") if args.since else None
    until = parse_when(args.until, option="--until") if args.until else None
    if since and until and since >= until:
        raise UsageError("--since must be earlier than --until.")
    return CollectRequest(
        owners=owners,
        repositories=repositories,
        since=since,
        until=until,
        snapshots=bool(args.snapshots),
    )


def _values(
    args: argparse.Namespace, options: tuple[ScopeOption, ...], names: str
) -> tuple[str, ...]:
    given = (getattr(args, option.dest, None) or [] for option in options if option.names == names)
    return tuple(value for values in given for value in values)


def _refuse_foreign_options(
    args: argparse.Namespace, adapter_class: type[Adapter], environ: Mapping[str, str]
) -> None:
    """An option another platform declares is a mistake: --group with --platform github (or
    PIPELEDGER_GROUP set for a GitHub run) is not an organization, and --gitlab-config
    configures nothing there. Only an environment option whose value is its environment
    twin's is left alone (PIPELEDGER_GITLAB_SECTION exported for GitLab runs): the
    environment is every platform's, as GITLAB_TOKEN is."""
    platform = adapter_class.platform
    mine = {option.dest for option in platform_options(adapter_class)}
    for other, adapter in args.adapters.items():
        for option in platform_options(adapter):
            value = getattr(args, option.dest, None)
            if option.dest in mine or not value:
                continue
            if isinstance(option, EnvironmentOption):
                if value == environ.get(env_name(option.dest)):
                    continue
                raise UsageError(
                    f"{option.flag} is an option of --platform {other}, not {platform}.",
                    f"Drop it when collecting from {platform} (a config key {option.dest}:"
                    " counts too).",
                )
            own = adapter_class.scope_options
            raise UsageError(
                f"{option.flag} names what to collect on {other}, not on {platform}.",
                f"With --platform {platform}, use "
                + (" or ".join(o.flag for o in own) or "the options its plugin declares")
                + f" (an environment variable {env_name(option.dest)} or a config key"
                f" {option.dest}: counts too).",
            )


def _with_environment_options(
    args: argparse.Namespace, adapter_class: type[Adapter], settings: AdapterSettings
) -> AdapterSettings:
    """The adapter's environment with the variables its environment options set: given
    (--gitlab-config FILE), an option wins over the variable already set (PYTHON_GITLAB_CFG)."""
    given = {
        option.variable: str(value)
        for option in adapter_class.environment_options
        if (value := getattr(args, option.dest, None))
    }
    if not given:
        return settings
    return dataclasses.replace(settings, environ={**settings.environ, **given})


def run(args: argparse.Namespace, context: Context) -> int:
    installed: Installed = args.adapters
    if not args.platform:
        raise UsageError("collect needs --platform.", f"Use one of: {', '.join(installed)}.")
    adapter_class = installed.get(args.platform) or load_adapter(args.platform)
    if isinstance(adapter_class, UsageError):
        raise adapter_class
    _refuse_foreign_options(args, adapter_class, context.environ)
    request = build_request(args, adapter_class)
    concurrency = _whole_number(args.concurrency, "--concurrency", MAX_CONCURRENCY)
    args.max_wait, unattended = max_wait_policy(args.max_wait, context)
    settings = adapter_settings(args, context, wait_through_reset=unattended)
    adapter = adapter_class.create(_with_environment_options(args, adapter_class, settings))
    concurrency = concurrency or adapter.default_concurrency()
    sinks = context.open_sinks(args)
    progress = progress_for(context)
    summary = CollectSummary()
    started = time.monotonic()
    try:
        collect_into(adapter, request, sinks, progress, summary, concurrency)
        detected = detect_after_collect(args, request.since, sinks) if args.detect else None
    except BaseException:  # an error, Ctrl-C or a bug: tidy the terminal, say what was kept
        progress.finish(complete=False)
        context.err(_summary_line(summary, sinks.ledger.display_url, adapter, interrupted=True))
        raise
    finally:
        sinks.close()
    progress.finish()
    context.out(_summary_line(summary, sinks.ledger.display_url, adapter, interrupted=False))
    elapsed = time.monotonic() - started
    context.out(closing_summary(summary.by_kind, elapsed, progress.repositories_seen))
    if detected:
        context.out(detected)
    failed = _report_sink_failures(sinks.failures, context)
    return _report_quarantine(summary, sinks.ledger.display_url, context) or failed


def max_wait_policy(value: object, context: Context) -> tuple[float, bool]:
    """--max-wait in seconds, and whether waits up to the next rate-limit reset are taken
    beyond it: so when it was not given and no one watches, so that a scheduled backfill
    outlives a rate-limit window instead of stopping."""
    if value is not None:
        return _seconds(value, "--max-wait"), False
    return INTERACTIVE_MAX_WAIT, _unattended(context)


def _unattended(context: Context) -> bool:
    """No one to ask whether a long wait is fine: a CI job, a scheduled run, a pipe."""
    return bool(context.environ.get("CI")) or not is_terminal(context.stderr)


def _whole_number(value: object, option: str, highest: int) -> int | None:
    """A value from the flag, PIPELEDGER_* (text) or the config file; None if unset."""
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= highest:
        raise UsageError(
            f"{option} {value!r} is not a whole number from 1 to {highest}.",
            f"Give how many repositories or projects to collect at once, e.g. {option} 4"
            f" (env {env_name(option[2:].replace('-', '_'))}, or {option[2:]}: in"
            " pipeledger.yml).",
        )
    return number


def _seconds(value: object, option: str) -> float:
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise UsageError(
            f"{option} {value!r} is not a number of seconds.",
            f"Give seconds, e.g. {option} 900 (env {env_name(option[2:].replace('-', '_'))}).",
        )
    return seconds


def _summary_line(
    summary: CollectSummary, ledger: str, adapter: Adapter, *, interrupted: bool
) -> str:
    head = "stopped early; kept" if interrupted else "collected"
    line = f"pipeledger: {head} {summary.seen} events, {summary.stored} new, stored in {ledger}."
    counts = adapter.request_counts()
    if counts is not None:
        line += f" requests: {counts.made} ({counts.not_modified} not modified)."
    return line


def _report_quarantine(summary: CollectSummary, ledger: str, context: Context) -> int:
    """Exit 3 when this run quarantined records no earlier run had: each is named once."""
    if summary.quarantined_again:
        context.err(
            f"pipeledger: {summary.quarantined_again} records quarantined by an earlier run"
            " were seen again and are still in the quarantine."
        )
    new = summary.quarantined
    if not new:
        return int(ExitCode.OK)
    shown = new[:QUARANTINE_SHOWN]
    more = f"; and {len(new) - len(shown)} more" if len(new) > len(shown) else ""
    context.err(
        f"pipeledger: error: {len(new)} record{'s' if len(new) != 1 else ''} could not be"
        f" recorded and {'were' if len(new) != 1 else 'was'} quarantined in {ledger}:"
        f" {'; '.join(record.describe() for record in shown)}{more}. Everything else was"
        " collected. The raw records and their reasons are kept in the ledger's quarantine"
        f" table: {docs_url('security/integrity', 'quarantine')}"
    )
    return int(ExitCode.PLATFORM)


def _report_sink_failures(failures: Mapping[str, PipeledgerError], context: Context) -> int:
    for url, error in failures.items():
        context.err(
            f"pipeledger: error: sink {url} failed: {error.describe()} Its events stay in the"
            " ledger and are delivered on the next run."
        )
    return int(ExitCode.PLATFORM) if failures else int(ExitCode.OK)
