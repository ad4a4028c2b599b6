"""The options every command that talks to a forge's API shares, and the adapter settings
they make."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from pipeledger.cli.command_context import Context
from pipeledger.cli.options import add_option
from pipeledger.collect.adapter import AdapterSettings
from pipeledger.collect.progress import SilentProgress
from pipeledger.errors import UsageError

# collect's --max-wait when someone is watching (a terminal, not CI).
INTERACTIVE_MAX_WAIT = 900.0


def add_api_options(
    parser: argparse.ArgumentParser, *, max_wait: float | None, retries: int
) -> None:
    """A collection may wait out a rate limit; a gate in a running job should not. A
    ``max_wait`` of None is decided by the command (collect: by whether anyone watches)."""
    group = parser.add_argument_group("API")
    add_option(group, "--api-url", shown_default="the CI's own variable", help="API root")
    add_option(
        group,
        "--timeout",
        default=AdapterSettings.request_timeout,
        type=float,
        help="seconds per HTTP request",
    )
    add_option(
        group,
        "--max-wait",
        default=max_wait,
        shown_default=None
        if max_wait is not None
        else f"{INTERACTIVE_MAX_WAIT:g} on a terminal; unattended, until the next rate-limit reset",
        type=float,
        help="longest rate-limit wait in seconds",
    )
    add_option(group, "--retries", default=retries, type=int, help="retries of a failed request")
    add_option(
        group,
        "--backoff",
        default=AdapterSettings.backoff_base,
        type=float,
        help="first retry delay in seconds, doubled each time",
    )


def adapter_settings(
    args: argparse.Namespace, context: Context, *, wait_through_reset: bool = False
) -> AdapterSettings:
    return AdapterSettings(
        api_url=checked_api_url(args.api_url),
        environ=context.environ,
        max_wait=float(args.max_wait),
        wait_through_reset=wait_through_reset,
        request_timeout=float(args.timeout),
        max_retries=int(args.retries),
        backoff_base=float(args.backoff),
        progress=NoticeProgress(context),
    )


def checked_api_url(value: str | None) -> str | None:
    """--api-url must be an http(s) URL with a host (and a port that is a number), or the
    first request would fail with a message about something else."""
    if value is None:
        return None
    problem = _url_problem(value.strip())
    if problem:
        raise UsageError(
            f"--api-url {value!r} is not an API URL: {problem}.",
            "Pass the API root as the CI exposes it: https://api.github.com,"
            " https://HOST/api/v3 (GitHub Enterprise Server) or https://HOST/api/v4 (GitLab);"
            " env PIPELEDGER_API_URL.",
        )
    return value.strip()


def _url_problem(value: str) -> str | None:
    if not value or any(ch.isspace() for ch in value):
        return "it is empty or contains spaces"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        return str(error)
    if parts.scheme not in ("http", "https"):
        return "it must start with https:// (or http:// for a local server)"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "port 0 is not a port"
    return None


class NoticeProgress(SilentProgress):
    """Outside a collection only the notices matter — a retry or rate-limit wait — shown on
    stderr unless -q."""

    def __init__(self, context: Context) -> None:
        self._context = context

    def notice(self, message: str) -> None:
        self._context.note(f"pipeledger: {message}")
