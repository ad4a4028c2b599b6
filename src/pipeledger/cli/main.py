"""Entry point: parses arguments, runs one command, and is the only place that turns errors
into messages and exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TextIO

from pipeledger import __version__
from pipeledger.cli.context import Context
from pipeledger.config import load_config_file, resolve
from pipeledger.errors import ExitCode, PipeledgerError, UsageError
from pipeledger.redact import SecretMasker


def command_modules() -> list[ModuleType]:
    """Every ``pipeledger.cli.*_cmd`` module is a subcommand: ``register`` + ``run`` +
    ``DEFAULTS``."""
    import pipeledger.cli as package

    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_cmd")
    )
    return [importlib.import_module(f"pipeledger.cli.{name}") for name in names]


Runner = Callable[[argparse.Namespace, Context], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}.", f"Run '{self.prog} --help' for the options.")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, dict[str, object]]]:
    parser = _Parser(prog="pipeledger", description="Who did what in CI/CD.")
    parser.add_argument("--version", action="version", version=f"pipeledger {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    parser.add_argument("--config", help="config file (default ./pipeledger.yml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    defaults: dict[str, dict[str, object]] = {}
    for module in command_modules():
        sub = module.register(commands)
        sub.set_defaults(run=module.run)
        defaults[sub.prog.split()[-1]] = module.DEFAULTS
    return parser, defaults


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    env = dict(os.environ if environ is None else environ)
    context = Context(
        environ=env,
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
        masker=SecretMasker.from_environ(env),
    )
    verbose = "-v" in (argv or sys.argv[1:]) or "--verbose" in (argv or sys.argv[1:])
    try:
        return _dispatch(argv, context)
    except PipeledgerError as error:
        context.err(f"pipeledger: error: {error.describe()}")
        if verbose:
            context.err(traceback.format_exc())
        return int(error.exit_code)
    except KeyboardInterrupt:
        context.err("pipeledger: interrupted; everything stored before this point is kept.")
        return int(ExitCode.PLATFORM)


def _dispatch(argv: Sequence[str] | None, context: Context) -> int:
    parser, defaults = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(context.stdout)
        return int(ExitCode.USAGE)
    file_values = load_config_file(args.config, context.environ)
    resolve(args, defaults[args.command], context.environ, file_values)
    runner: Runner = args.run
    return runner(args, context)


def run() -> None:
    sys.exit(main())
