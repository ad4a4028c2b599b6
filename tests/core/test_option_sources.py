"""Every command-line option has its environment twin (``PIPELEDGER_<NAME>``) and config-file
key, and one default: all three come from its one declaration
(:func:`pipeledger.cli.options.add_option`), which :func:`pipeledger.config.resolve` reads
back through ``build_parser``. An option declared with a bare ``add_argument`` is silently
flag-only — ``--checkpoint-every`` was, in ``check``, ``audit`` and ``anomalies`` — and a
default written by hand in the help drifts from the real one."""

from __future__ import annotations

import argparse
import re

import pytest

from pipeledger.cli.main import build_parser, parsers
from pipeledger.cli.options import Declared, add_option, declared, option_defaults, shown_value
from pipeledger.config import env_name, resolve

NOT_OPTIONS = {"help", "verbose", "quiet", "no_color", "config", "version"}
# Given each time on purpose: who acknowledges an alert, and why.
FLAG_ONLY = {"anomalies": {"by", "reason"}}
SUFFIX = re.compile(
    r" \((?:default: (?P<default>.*); )?env (?P<env>PIPELEDGER_[A-Z_]+)"
    r"(=[01]|, space-separated)?\)$"
)


def _dests(parser: argparse.ArgumentParser, *, options: bool) -> set[str]:
    return {
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        and bool(action.option_strings) == options
    } - NOT_OPTIONS


def _commands() -> dict[str, argparse.ArgumentParser]:
    root, _ = build_parser()
    return {path: parser for path, parser in parsers(root) if path and " " not in path}


def test_every_option_has_an_environment_twin_and_a_config_key() -> None:
    root, defaults = build_parser()
    tree = list(parsers(root))
    for command, declared_defaults in defaults.items():
        mine = [p for path, p in tree if path == command or path.startswith(command + " ")]
        options = set().union(*(_dests(p, options=True) for p in mine))
        missing = options - set(declared_defaults) - FLAG_ONLY.get(command, set())
        assert not missing, f"{command}: options without an environment twin: {sorted(missing)}"


@pytest.mark.parametrize("command", sorted(_commands()))
def test_the_help_shows_the_declared_default_and_the_variable_resolve_reads(command: str) -> None:
    for action, each in declared(_commands()[command]):
        if action.help == argparse.SUPPRESS:
            continue
        text = str(action.help)
        said = SUFFIX.search(text)
        assert said, f"{command} {action.option_strings}: no default/env suffix in {text!r}"
        assert said.group("env") == env_name(action.dest)
        shown = each.shown_default or shown_value(each.default)
        assert said.group("default") == shown, (command, action.option_strings, text)
        # The suffix is the only place a help says its default.
        assert "default" not in text[: said.start()], (command, action.option_strings, text)
        namespace = argparse.Namespace(**{action.dest: None})
        resolve(namespace, {action.dest: each.default}, {said.group("env"): _sample(each)}, {})
        assert getattr(namespace, action.dest) not in (None, each.default), (command, action.dest)


def _sample(each: Declared) -> str:
    """A value of the environment variable unlike the default."""
    if isinstance(each.default, bool):
        return "0" if each.default else "1"
    if isinstance(each.default, int | float):
        return str(each.default + 7)
    return "elsewhere"


def test_checkpoint_every_comes_from_the_environment_in_audit() -> None:
    root, defaults = build_parser()
    for command in ("audit", "check", "anomalies"):
        args = root.parse_args([command])
        resolve(args, defaults[command], {"PIPELEDGER_CHECKPOINT_EVERY": "7"}, {})
        assert args.checkpoint_every == 7, command


def test_an_option_is_declared_once_with_its_default() -> None:
    parser = argparse.ArgumentParser()
    add_option(parser, "--look-back", default="90d", metavar="DURATION", help="how far back")
    add_option(parser, "--record", default=False, action="store_const", const=True, help="also")
    add_option(parser, "--sink", default=[], shown_default="a file", action="append", help="to")
    add_option(parser, "--wait", default=60.0, type=float, help="at most 50%% of it")
    add_option(parser, "--share", default="5%", help="the share")
    add_option(parser, "--now", help=argparse.SUPPRESS)
    helps = {action.dest: action.help for action in parser._actions}
    assert helps["look_back"] == "how far back (default: 90d; env PIPELEDGER_LOOK_BACK)"
    assert helps["record"] == "also (env PIPELEDGER_RECORD=1)"
    assert helps["sink"] == "to (default: a file; env PIPELEDGER_SINK, space-separated)"
    assert helps["wait"] == "at most 50%% of it (default: 60; env PIPELEDGER_WAIT)"
    assert helps["share"] == "the share (default: 5%%; env PIPELEDGER_SHARE)"
    assert helps["now"] == argparse.SUPPRESS
    assert "at most 50% of it (default: 60;" in parser.format_help()
    assert "(default: 5%; env" in parser.format_help()
    # argparse keeps None: resolve() tells an option left unset from one given.
    assert vars(parser.parse_args([])) == dict.fromkeys(helps.keys() - {"help"})
    assert option_defaults(parser) == {
        "look_back": "90d",
        "record": False,
        "sink": [],
        "wait": 60.0,
        "share": "5%",
        "now": None,
    }


def test_one_dest_declared_with_two_defaults_is_refused() -> None:
    parser = argparse.ArgumentParser(prog="tool")
    add_option(parser, "--sink", default=[], action="append")
    verify = parser.add_subparsers().add_parser("verify")
    add_option(verify, "--sink", default=["x"], action="append")
    with pytest.raises(ValueError, match="sink is declared with two defaults"):
        option_defaults(parser)
