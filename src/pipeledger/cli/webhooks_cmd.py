"""``pipeledger webhooks redeliver``: GitHub does not retry failed webhook deliveries; this
asks it to deliver again every one that failed since WHEN (and never succeeded since), so a
``serve`` outage leaves no gap in the ledger."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from pipeledger import registry
from pipeledger.cli.command_context import Context
from pipeledger.cli.options import add_flag, add_option
from pipeledger.errors import ExitCode, UsageError
from pipeledger.timeutil import parse_when


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "webhooks", help="ask GitHub to redeliver the webhook deliveries that failed"
    )
    parser.add_argument("action", choices=("redeliver",), help="redeliver: failed deliveries")
    where = parser.add_mutually_exclusive_group()
    add_option(where, "--org", help="every hook of this organization")
    add_option(where, "--repo", metavar="OWNER/NAME", help="every hook of this repository")
    add_flag(where, "--app", help="the GitHub App's own webhook")
    add_option(
        parser, "--since", default="3d", metavar="WHEN", help="failed since; GitHub keeps 3 days"
    )
    # None: the GitHub plugin's own API root.
    add_option(parser, "--api-url", shown_default="https://api.github.com", help="API root")
    add_option(parser, "--platform", default="github", help=argparse.SUPPRESS)
    add_flag(parser, "--dry-run", help="list the failed deliveries only")
    return parser


def run(args: argparse.Namespace, context: Context) -> int:
    from pipeledger.serve.receiver import RedeliveryRequest

    scope, name = _scope(args)
    request = RedeliveryRequest(
        scope=scope,
        name=name,
        since=parse_when(str(args.since), option="--since", now=datetime.now(UTC)),
        environ=context.environ,
        api_url=args.api_url,
        dry_run=bool(args.dry_run),
    )
    receiver = registry.load_receiver(str(args.platform))
    summary = receiver.redeliver(request)
    for guid in summary.failed_ids:
        context.out(f"failed  {guid}")
    verb = "would ask for" if args.dry_run else "asked for"
    context.out(
        f"pipeledger: {summary.seen} deliveries since {args.since}; {len(summary.failed_ids)}"
        f" failed and were not delivered since; {verb} {len(summary.failed_ids)} redeliveries."
    )
    return int(ExitCode.OK)


def _scope(args: argparse.Namespace) -> tuple[str, str | None]:
    if args.app:
        return "app", None
    if args.org:
        return "org", str(args.org)
    if args.repo:
        if "/" not in str(args.repo):
            raise UsageError(f"--repo {args.repo!r} is not OWNER/NAME.", "Use e.g. acme/web.")
        return "repo", str(args.repo)
    raise UsageError(
        "webhooks redeliver needs --org ORG, --repo OWNER/NAME or --app.",
        "Name whose webhook deliveries to look through.",
    )
