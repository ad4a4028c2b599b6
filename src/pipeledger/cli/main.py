"""Entry point: parses arguments, runs one command, and is the only place that turns errors
into messages and exit codes.

The error boundary: the project's own errors print their one paragraph; any other exception
is a bug and prints one ``internal error`` line (exit 3); ``-v`` adds the traceback. A reader
that closes the pipe (``pipeledger events | head``) ends the run quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any, NoReturn, TextIO

from pipeledger import __version__
from pipeledger.cli.command_context import Context
from pipeledger.cli.help_text import COMMAND_HELP, ROOT, CommandHelp, epilog
from pipeledger.cli.options import Declared, option_defaults, with_suffix
from pipeledger.config import DEFAULT_CONFIG_FILE, load_config_file, resolve
from pipeledger.errors import ExitCode, InternalError, PipeledgerError, UsageError
from pipeledger.held_secrets import forget_all
from pipeledger.redact import SecretMasker

# 128 + SIGPIPE: what a shell reports for a program stopped by a closed pipe.
CLOSED_PIPE_EXIT = 128 + int(getattr(signal, "SIGPIPE", 13))
HELP_WIDTH = 88


def command_modules(only: str | None = None) -> list[ModuleType]:
    """Every ``pipeledger.cli.*_cmd`` module is a subcommand: ``register(commands)`` adds
    its parser (options declared with :func:`pipeledger.cli.options.add_option`, each with
    its default) and returns it; ``run(args, context)`` runs it. With ``only`` (a command's
    name), just that command's module: a run imports what its own command uses, not every
    command's dependencies (the gate starts faster)."""
    import pipeledger.cli as package

    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_cmd")
    )
    if only is not None and f"{only}_cmd" in names:
        names = [f"{only}_cmd"]
    return [importlib.import_module(f"pipeledger.cli.{name}") for name in names]


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (the first word that is not a global option or the
    value of ``--config``), or None for none (``pipeledger --help``)."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word.replace("-", "_")
    return None


Runner = Callable[[argparse.Namespace, Context], int]


class _Exit(Exception):
    """argparse finished early (``--help``, ``--version``): return this status from main."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    # Where --help and --version write: the run's stdout, not necessarily sys.stdout.
    output: TextIO | None = None

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}.", f"Run '{self.prog} --help' for the options.")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, self.output)
        raise _Exit(status)

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (self.output or file or sys.stdout).write(message)


def add_global_options(parser: argparse.ArgumentParser, *, root: bool) -> None:
    """-v, -q and --no-color work before or after the command: the command's copies leave
    the value alone unless given (SUPPRESS), so they never undo the global one."""
    group = parser.add_argument_group("global options")
    default: Any = False if root else argparse.SUPPRESS
    group.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="show tracebacks"
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="no progress or notices on stderr; warnings and errors still show",
    )
    group.add_argument(
        "--no-color",
        action="store_true",
        default=default,
        help="no colour or live display (also when NO_COLOR is set or output is not a terminal)",
    )
    if root:
        # Read before any option is resolved, so not itself an option with a config key.
        shown = Declared(default=None, shown_default=f"./{DEFAULT_CONFIG_FILE}")
        group.add_argument("--config", help=with_suffix("config file", "config", shown))


def build_parser(
    argv: Sequence[str] = (),
) -> tuple[argparse.ArgumentParser, dict[str, dict[str, object]]]:
    """The parser of every command, or only of the command ``argv`` names (an unknown word
    gets every command, so the error lists them all), and each command's option defaults,
    read from the options its ``register`` declared."""
    parser = _Parser(prog="pipeledger")
    parser.add_argument("--version", action="version", version=f"pipeledger {__version__}")
    add_global_options(parser, root=True)
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, title="commands"
    )
    defaults: dict[str, dict[str, object]] = {}
    for module in command_modules(chosen_command(argv)):
        sub = module.register(commands)
        sub.set_defaults(run=module.run)
        add_global_options(sub, root=False)
        defaults[sub.prog.split()[-1]] = option_defaults(sub)
    return parser, defaults


def parsers(
    parser: argparse.ArgumentParser, path: str = ROOT
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser in the tree with the words that reach it: ("", root), ("sinks", …)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}".strip())


def describe(parser: argparse.ArgumentParser, entry: CommandHelp | None) -> None:
    """The description and examples of a parser's help, as rich-argparse markup."""
    if entry is None:
        return
    from rich.markup import escape

    if not parser.description:
        parser.description = escape(textwrap.fill(entry.description, HELP_WIDTH))
    head, _, examples = epilog(entry).partition("\n")
    parser.epilog = f"[argparse.groups]{escape(head)}[/]\n{escape(examples)}"


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    env = dict(os.environ if environ is None else environ)
    forget_all()  # the credentials this run holds (held_secrets), registered as they are read
    context = Context(
        environ=env,
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
        masker=SecretMasker.from_environ(env),
    )
    words = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in words or "--verbose" in words
    try:
        return _dispatch(words, context)
    except _Exit as done:
        return done.status
    except PipeledgerError as error:
        return _report(context, error, verbose)
    except KeyboardInterrupt:
        context.err("pipeledger: interrupted; everything stored before this point is kept.")
        return int(ExitCode.PLATFORM)
    except BrokenPipeError:
        return _closed_pipe(context)
    except Exception as error:  # the boundary: anything else is a bug, told in one line
        return _report(context, InternalError.from_exception(error), verbose)


def _report(context: Context, error: PipeledgerError, verbose: bool) -> int:
    try:
        context.err(f"pipeledger: error: {error.describe()}")
        if verbose:
            context.err(traceback.format_exc().rstrip())
    except BrokenPipeError:
        return _closed_pipe(context)
    return int(error.exit_code)


def _closed_pipe(context: Context) -> int:
    """The reader went away: say nothing, and point the real stdout at /dev/null so the
    interpreter's last flush does not complain about the same closed pipe."""
    if context.stdout is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
    return CLOSED_PIPE_EXIT


def _dispatch(argv: Sequence[str], context: Context) -> int:
    parser, defaults = build_parser(argv)
    _route_help(parser, context, argv)
    args = parser.parse_args(argv)
    context.quiet = bool(args.quiet) or bool(context.environ.get("PIPELEDGER_QUIET"))
    context.no_color = bool(args.no_color)
    if args.command is None:
        parser.print_help(context.stdout)
        return int(ExitCode.USAGE)
    file_values = load_config_file(args.config, context.environ)
    resolve(args, defaults[args.command], context.environ, file_values)
    runner: Runner = args.run
    return runner(args, context)


def _route_help(parser: argparse.ArgumentParser, context: Context, argv: Sequence[str]) -> None:
    """Help and --version go to this run's stdout, laid out by rich-argparse in colour on a
    terminal and as plain text elsewhere. The formatter (with rich, and the descriptions and
    examples) is made the first time one is asked for: a run that shows no help imports no
    rich for it."""
    color = "--no-color" not in argv and context.colors(context.stdout)  # decided now, as before
    made: list[type[argparse.HelpFormatter]] = []

    def formatter(prog: str, **kwargs: Any) -> argparse.HelpFormatter:
        if not made:
            made.append(_help_formatter(parser, context, color))
        return made[0](prog, **kwargs)

    for _path, each in parsers(parser):
        each.formatter_class = formatter
        if isinstance(each, _Parser):
            each.output = context.stdout


def _help_formatter(
    parser: argparse.ArgumentParser, context: Context, color: bool
) -> type[argparse.HelpFormatter]:
    from rich_argparse import RawDescriptionRichHelpFormatter

    from pipeledger.cli.console import make_console

    for path, each in parsers(parser):
        describe(each, COMMAND_HELP.get(path))
    console = make_console(context.stdout, context.environ, color=color)

    class Formatter(RawDescriptionRichHelpFormatter):
        group_name_formatter = _sentence_case

        def __init__(self, prog: str, **kwargs: Any) -> None:
            kwargs.setdefault("width", min(console.width, HELP_WIDTH + 4))
            super().__init__(prog, console=console, **kwargs)

    return Formatter


def _sentence_case(heading: str) -> str:
    """ "Ledger and sinks", not "Ledger And Sinks"."""
    return heading[:1].upper() + heading[1:]


def run() -> None:
    sys.exit(main())
