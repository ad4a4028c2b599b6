"""``pipeledger serve``: the webhook receiver. Answers a delivery only once its events are in
the ledger; runs until SIGINT/SIGTERM, then finishes what is in flight."""

from __future__ import annotations

import argparse
from typing import Any

from pipeledger.cli.command_context import Context, add_sink_option
from pipeledger.cli.options import add_flag, add_option
from pipeledger.docs_links import docs_url
from pipeledger.errors import ExitCode, UsageError
from pipeledger.registry import available_receivers


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="receive webhooks into the ledger in real time (receivers: "
        + (", ".join(available_receivers()) or "none installed")
        + "); answer deployment protection rules where the platform has them",
    )
    add_option(
        parser,
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="address to listen on",
    )
    add_option(
        parser, "--api-url", help="the API root of the receiver that calls back (its instance)"
    )
    add_option(
        parser,
        "--policy",
        metavar="FILE",
        shown_default="none, the rule is off",
        help="policy the deployment protection rule evaluates",
    )
    add_flag(
        parser,
        "--fail-open",
        shown_default="reject it",
        help="approve, with a warning, a deployment the protection rule cannot judge",
    )
    add_option(
        parser,
        "--decision-timeout",
        default=60.0,
        type=float,
        metavar="SECONDS",
        help="longest time the protection rule spends judging one deployment",
    )
    add_option(
        parser,
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="how much the server logs",
    )
    add_sink_option(parser)
    return parser


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"--listen {value!r} is not HOST:PORT.",
            "Use e.g. 0.0.0.0:8080 (all interfaces) or 127.0.0.1:8080; env PIPELEDGER_LISTEN.",
        )
    return host, int(port)


def run(args: argparse.Namespace, context: Context) -> int:
    try:
        from pipeledger.serve.server import build_server, configure_logging, run_uvicorn
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise UsageError(
            f"pipeledger serve needs the 'serve' extra ({error.name} is missing).",
            "Install it: pip install 'pipeledger[serve]'.",
        ) from None
    from pipeledger.serve.receiver import ReceiverSettings

    host, port = parse_listen(str(args.listen))
    settings = ReceiverSettings(
        environ=context.environ,
        api_url=args.api_url,
        policy_path=args.policy,
        fail_open=bool(args.fail_open),
        decision_timeout=float(args.decision_timeout),
    )
    server = build_server(settings, lambda: context.open_sinks(args))
    configure_logging(str(args.log_level))
    context.err(
        f"pipeledger: serving {', '.join(server.app.paths())} on http://{host}:{port}"
        f" (/healthz, /metrics); {docs_url('serve')}"
    )
    run_uvicorn(server, host, port, str(args.log_level))
    return int(ExitCode.OK)
