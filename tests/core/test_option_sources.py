"""Every command-line option has its environment twin (``PIPELEDGER_<NAME>``) and config-file
key: both come from the command's ``DEFAULTS``, which :func:`pipeledger.config.resolve` reads.
An option left out of it is silently flag-only — ``--checkpoint-every`` was, in ``check``,
``audit`` and ``anomalies``."""

from __future__ import annotations

import argparse

from pipeledger.cli.main import build_parser, parsers
from pipeledger.config import resolve

NOT_OPTIONS = {"help", "verbose", "quiet", "no_color", "config", "version"}
# Given each time on purpose: who acknowledges an alert, and why.
FLAG_ONLY = {"anomalies": {"by", "reason"}}


def _dests(parser: argparse.ArgumentParser, *, options: bool) -> set[str]:
    return {
        action.dest
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        and bool(action.option_strings) == options
    } - NOT_OPTIONS


def test_every_option_has_an_environment_twin_and_a_config_key() -> None:
    root, defaults = build_parser()
    tree = list(parsers(root))
    for command, declared in defaults.items():
        mine = [p for path, p in tree if path == command or path.startswith(command + " ")]
        options = set().union(*(_dests(p, options=True) for p in mine))
        arguments = set().union(*(_dests(p, options=False) for p in mine))
        missing = options - set(declared) - FLAG_ONLY.get(command, set())
        assert not missing, f"{command}: options without an environment twin: {sorted(missing)}"
        unknown = set(declared) - options - arguments
        assert not unknown, f"{command}: defaults of no option: {sorted(unknown)}"


def test_checkpoint_every_comes_from_the_environment_in_audit() -> None:
    root, defaults = build_parser()
    for command in ("audit", "check", "anomalies"):
        args = root.parse_args([command])
        resolve(args, defaults[command], {"PIPELEDGER_CHECKPOINT_EVERY": "7"}, {})
        assert args.checkpoint_every == 7, command
