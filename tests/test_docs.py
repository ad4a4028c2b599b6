"""README.md is short and complete; BENCHMARKS.md is assembled from docs/bench/ without drift."""

from __future__ import annotations

import argparse
import importlib.util
import re

from pipeledger.cli.main import build_parser
from tests.paths import ROOT

README = ROOT / "README.md"
README_LIMIT = 15_000


def _builder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_docs", ROOT / "tools" / "build_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def cli_commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    """Every command a user can type, from the parser itself: ``collect``, ``sinks check``...

    A sub-parser's first positional with fixed choices (``sinks check``) names sub-commands,
    as nested sub-parsers do."""
    commands: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if prefix and not action.required:
                commands.append(prefix.strip())  # ``anomalies`` runs alone, or ``anomalies ack``
            for name, sub in action.choices.items():
                commands += cli_commands(sub, f"{prefix}{name} ") or [f"{prefix}{name}"]
            return commands
    positionals = [a for a in parser._actions if not a.option_strings and a.dest != "help"]
    if prefix and positionals and positionals[0].choices:
        return [f"{prefix}{choice}" for choice in positionals[0].choices]
    return commands


def _table_commands(text: str) -> list[str]:
    rows = re.findall(r"^\| `pipeledger ([a-z][a-z -]*?)` \|", text, flags=re.MULTILINE)
    return [row.strip() for row in rows]


def test_generated_docs_are_current() -> None:
    for path, text in _builder().outputs().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"run python tools/build_docs.py ({path.name})"
        )


def test_the_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail into the docs site"


def test_the_quickstart_has_exactly_the_two_commands() -> None:
    quickstart = _section(_readme(), "Quickstart")
    commands = re.findall(r"^make \w+", quickstart, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]


def test_the_command_table_lists_every_cli_command_once() -> None:
    parser, _defaults = build_parser()
    expected = sorted(cli_commands(parser))
    assert {"collect", "check", "provenance", "sinks check", "demo"} <= set(expected)
    assert sorted(_table_commands(_section(_readme(), "Commands"))) == expected


def test_the_command_list_follows_the_parser() -> None:
    parser = argparse.ArgumentParser(prog="tool")
    commands = parser.add_subparsers()
    commands.add_parser("run")
    commands.add_parser("store").add_argument("action", choices=("check", "repair"))
    nested = commands.add_parser("report").add_subparsers(required=True)
    nested.add_parser("make")
    nested.add_parser("verify")
    # A command that runs alone or with an optional action (``anomalies``, ``anomalies ack``).
    commands.add_parser("scan").add_subparsers().add_parser("ack")
    assert cli_commands(parser) == [
        "run",
        "store check",
        "store repair",
        "report make",
        "report verify",
        "scan",
        "scan ack",
    ]


def test_a_missing_row_is_noticed() -> None:
    table = "| `pipeledger collect` | x |\n| `pipeledger sinks check` | y |\n"
    assert _table_commands(table) == ["collect", "sinks check"]
    assert _table_commands(table.replace("collect", "colect")) == ["colect", "sinks check"]
