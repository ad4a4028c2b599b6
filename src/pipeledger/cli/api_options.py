"""The options every command that talks to a forge's API shares, and the adapter settings
they make."""

from __future__ import annotations

import argparse
from typing import Any

from pipeledger.adapter import AdapterSettings
from pipeledger.cli.context import Context


def api_defaults(*, max_wait: float, retries: int) -> dict[str, Any]:
    """A collection may wait out a rate limit; a gate in a running job should not."""
    return {
        "api_url": None,
        "timeout": 30.0,
        "max_wait": max_wait,
        "retries": retries,
        "backoff": 1.0,
    }


def add_api_options(parser: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    parser.add_argument("--api-url", help="API root (default: the CI's own variable)")
    parser.add_argument("--timeout", type=float, help="seconds per HTTP request")
    parser.add_argument(
        "--max-wait",
        type=float,
        help=f"longest rate-limit wait in seconds (default {defaults['max_wait']:.0f})",
    )
    parser.add_argument(
        "--retries",
        type=int,
        help=f"retries of a failed request (default {defaults['retries']})",
    )
    parser.add_argument(
        "--backoff", type=float, help="first retry delay in seconds, doubled each time (default 1)"
    )


def adapter_settings(args: argparse.Namespace, context: Context) -> AdapterSettings:
    return AdapterSettings(
        api_url=args.api_url,
        environ=context.environ,
        max_wait=float(args.max_wait),
        request_timeout=float(args.timeout),
        max_retries=int(args.retries),
        backoff_base=float(args.backoff),
    )
