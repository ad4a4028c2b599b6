"""Each command option declared once, with its default.

:func:`add_option` is ``add_argument`` that also takes the option's ``default``: argparse
itself keeps None (so :func:`pipeledger.config.resolve` can tell an option left unset on the
command line, and fill it from ``PIPELEDGER_<DEST>``, then the config file, then this
default), the default is recorded on the parser, and the help ends in the one suffix every
option shares, made from the declaration: ``(default: 90d; env PIPELEDGER_LOOK_BACK)``.

A command's defaults are read back from its parser with :func:`option_defaults`
(``main.build_parser`` does, after ``register``), so no table of defaults is kept beside the
declarations: an option has exactly one default, and its help shows that one.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from pipeledger.config import env_name


@dataclass(frozen=True)
class Declared:
    """What ``add_option`` recorded of one option."""

    default: Any
    # What the help says the default is, when it is not the value itself ("the CI's own
    # variable"); None: the value, when it is worth saying (see shown_value).
    shown_default: str | None


# Recorded per argparse action; weak, so parsers built and dropped (tests) leave nothing.
_DECLARED: WeakKeyDictionary[argparse.Action, Declared] = WeakKeyDictionary()


def add_option(
    container: argparse.ArgumentParser | argparse._ArgumentGroup,
    *flags: str,
    default: Any = None,
    shown_default: str | None = None,
    **kwargs: Any,
) -> argparse.Action:
    """Declare one option, as ``container.add_argument(*flags, **kwargs)``, with its default
    and its environment twin. A list default makes a repeatable option's environment value
    a space-separated list; a bool default makes a flag's ``…=1`` (or ``…=0``)."""
    action = container.add_argument(*flags, default=None, **kwargs)
    _DECLARED[action] = Declared(default, shown_default)
    if action.help != argparse.SUPPRESS:
        action.help = with_suffix(action.help, action.dest, _DECLARED[action])
    return action


def add_flag(
    container: argparse.ArgumentParser | argparse._ArgumentGroup,
    *flags: str,
    help: str,
    shown_default: str | None = None,
) -> argparse.Action:
    """Declare an on/off option, off by default: given, it is True; ``PIPELEDGER_<DEST>=1``
    turns it on too."""
    return add_option(
        container,
        *flags,
        default=False,
        shown_default=shown_default,
        action="store_const",
        const=True,
        help=help,
    )


def with_suffix(text: str | None, dest: str, option: Declared) -> str:
    """``text (default: …; env PIPELEDGER_…)``: the default when there is one to say, and the
    environment variable (``%`` doubled: argparse formats help strings)."""
    shown = option.shown_default
    if shown is None:
        shown = shown_value(option.default)
    env = f"env {env_name(dest)}"
    if isinstance(option.default, bool):
        env += "=0" if option.default else "=1"
    elif isinstance(option.default, list):
        env += ", space-separated"
    parts = ([f"default: {shown}"] if shown else []) + [env]
    said = "; ".join(parts).replace("%", "%%")
    return f"{text} ({said})" if text else said


def shown_value(default: Any) -> str | None:
    """The default as the help says it: 24.0 is ``24``, a list its items; None, False and
    an empty list are the option's absence and go unsaid."""
    if default is None or isinstance(default, bool) or default == []:
        return None
    if isinstance(default, list):
        return " ".join(str(item) for item in default)
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def declared(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.Action, Declared]]:
    """Every option declared with ``add_option`` in a parser and its sub-parsers."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from declared(sub)
        elif action in _DECLARED:
            yield action, _DECLARED[action]


def option_defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """A command's defaults by dest, for :func:`pipeledger.config.resolve`: what its options
    (and its sub-commands' options) declared. One dest declared twice (``report --sink`` and
    ``report verify --sink``) must declare one default."""
    defaults: dict[str, Any] = {}
    for action, each in declared(parser):
        if action.dest in defaults and defaults[action.dest] != each.default:
            raise ValueError(
                f"{parser.prog}: {action.dest} is declared with two defaults,"
                f" {defaults[action.dest]!r} and {each.default!r}"
            )
        defaults[action.dest] = each.default
    return defaults
