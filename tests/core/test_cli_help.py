"""Every command's --help has a description and examples that really parse; colour only on a
terminal and never with NO_COLOR or --no-color."""

from __future__ import annotations

import io
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pipeledger.cli.help_text import COMMAND_HELP
from pipeledger.cli.main import build_parser, main, parsers
from pipeledger_sqlite.sink import SqliteSink
from tests.core.factories import make_events
from tests.fakes.github_job import GITHUB_JOB_ENV

HELP_TABLE = "src/pipeledger/cli/help_text.py"


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as a real one would."""

    def isatty(self) -> bool:
        return True


def command_paths() -> list[str]:
    parser, _ = build_parser()
    return [path for path, _ in parsers(parser)]


def test_every_command_has_a_help_entry() -> None:
    missing = [
        path or "(pipeledger itself)" for path in command_paths() if path not in COMMAND_HELP
    ]
    assert not missing, (
        f"add a CommandHelp entry to COMMAND_HELP in {HELP_TABLE} for: {', '.join(missing)}"
        " (a one-paragraph description and at least one (command line, what it does) example)"
    )


def test_no_help_entry_without_a_command() -> None:
    stale = sorted(set(COMMAND_HELP) - set(command_paths()))
    assert not stale, f"COMMAND_HELP in {HELP_TABLE} has entries for no command: {stale}"


@pytest.mark.parametrize("path", sorted(COMMAND_HELP))
def test_each_entry_describes_and_shows_examples(path: str) -> None:
    entry = COMMAND_HELP[path]
    assert len(entry.description) >= 80 and entry.description.endswith("."), (
        f"{HELP_TABLE}: the description of {path or 'pipeledger'!r} should be one full"
        " paragraph ending with a full stop"
    )
    assert entry.examples, f"{HELP_TABLE}: give {path or 'pipeledger'!r} at least one example"
    for command, what in entry.examples:
        assert command.startswith(f"pipeledger {path}".rstrip()), (path, command)
        assert what, f"{HELP_TABLE}: say what {command!r} does"


@pytest.mark.parametrize(
    "example",
    [example for entry in COMMAND_HELP.values() for example, _ in entry.examples],
)
def test_every_example_parses(example: str) -> None:
    words = shlex.split(example.split(" > ", maxsplit=1)[0])[1:]
    parser, _ = build_parser()
    parser.parse_args(words)  # a UsageError names the option the example got wrong


@pytest.mark.parametrize("path", sorted(COMMAND_HELP))
def test_help_shows_the_description_and_examples(path: str) -> None:
    out = io.StringIO()
    code = main([*path.split(), "--help"], environ={}, stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert code == 0
    assert "Examples:" in text and COMMAND_HELP[path].examples[0][0] in text.replace("\n  ", " ")
    assert "\x1b[" not in text  # not a terminal: plain


def test_help_is_coloured_on_a_terminal_unless_told_not_to() -> None:
    def help_text(*extra: str, environ: dict[str, str]) -> str:
        out = Terminal()
        main(["events", "--help", *extra], environ=environ, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    assert "\x1b[" in help_text(environ={"TERM": "xterm-256color"})
    assert "\x1b[" not in help_text(environ={"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert "\x1b[" not in help_text("--no-color", environ={"TERM": "xterm-256color"})


def _ledger(tmp_path: Path) -> str:
    sink = SqliteSink(tmp_path / "l.db")
    sink.append(make_events(3), {})
    sink.close()
    return f"sqlite:///{tmp_path}/l.db"


def test_events_on_a_terminal_are_coloured_and_no_color_keeps_them_plain(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)

    def table(*extra: str, environ: dict[str, str]) -> str:
        out = Terminal()
        main(
            ["events", "--sink", ledger, *extra], environ=environ, stdout=out, stderr=io.StringIO()
        )
        return out.getvalue()

    coloured = table(environ={"TERM": "xterm"})
    plain = table(environ={"TERM": "xterm", "NO_COLOR": "1"})
    assert "\x1b[" in coloured and "\x1b[" not in plain
    assert table("--no-color", environ={"TERM": "xterm"}) == plain
    assert table(environ={"TERM": "dumb"}) == plain
    # The colour is only added: the characters people read are the same.
    assert _strip_ansi(coloured) == plain


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_the_audit_verdict_is_marked_and_coloured_only_on_a_terminal(tmp_path: Path) -> None:
    from tests.core.policy.test_audit_cmd import BASELINE, write_ledger

    write_ledger(tmp_path / "l.db")
    argv = ["audit", "--policy", BASELINE, "--sink", f"sqlite:///{tmp_path}/l.db"]

    def report(stdout: io.StringIO, environ: dict[str, str]) -> str:
        assert main(argv, environ=environ, stdout=stdout, stderr=io.StringIO()) == 1
        return stdout.getvalue()

    plain = report(io.StringIO(), {})
    coloured = report(Terminal(), {"TERM": "xterm"})
    lines = plain.splitlines()
    assert lines[0].startswith("pipeledger audit: FAIL") and lines[-1] == lines[0]
    assert "✗" not in plain and "\x1b[" not in plain
    shown = _strip_ansi(coloured).splitlines()
    assert shown[0] == f"✗ {lines[0]}" and shown[-1] == shown[0]
    assert "\x1b[1;31mFAIL" in coloured
    assert report(Terminal(), {"TERM": "xterm", "NO_COLOR": "1"}) == plain


def test_a_command_imports_only_what_it_uses() -> None:
    """``pipeledger check`` (the gate, run in every deploy job) builds only its own parser:
    no evidence pack, anomaly engine or template engine is imported for it, nor the GitHub
    adapter's collector."""
    probe = (
        "import sys\n"
        "from pipeledger.cli.main import build_parser\n"
        "parser, defaults = build_parser(['--no-color', 'check', '--environment', 'prod'])\n"
        "assert list(defaults) == ['check'], list(defaults)\n"
        "import pipeledger_github.adapter\n"  # what check loads next, before its first request
        "heavy = ('jinja2', 'pipeledger.evidence_pack', 'pipeledger.anomalies', 'uvicorn',\n"
        "         'pipeledger_github.collector', 'pipeledger_github.access.snapshots')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
    assert set(build_parser()[1]) >= {"check", "audit", "report", "anomalies", "serve"}


# What check does before its first request must not import these: jsonschema (the bundled
# policy is valid: schema_fast says so), rich and rich-argparse (no help, nothing coloured
# yet), the findings renderers (written after the verdict), the webhook receiver, the rule
# types the baseline policy does not use (JMESPath comes with the expression rule), the sink
# fan-out and the sinks (opened once the evidence is in).
NOT_BEFORE_THE_FIRST_REQUEST = (
    "pipeledger.sinks.fanout",
    "pipeledger.sinks.contract",
    "pipeledger.ledger.signing",
    "pipeledger_sqlite",
    "jmespath",
    "pipeledger.policy.rules._expression",
    "pipeledger.policy.rules.permission_change",
    "pipeledger.policy.rules.protection_drift",
    "jsonschema",
    "rich",
    "rich_argparse",
    "pipeledger.cli.console",
    "pipeledger.report.text",
    "pipeledger.report.github",
    "pipeledger.report.sarif",
    "pipeledger.report.junit",
    "pipeledger.report.gitlab",
    "pipeledger.report.json_format",
    "pipeledger.serve",
    "jinja2",
    "pipeledger.evidence_pack",
    "pipeledger.anomalies",
    "pipeledger_github.collector",
)


def test_check_reaches_its_first_request_without_the_lazy_modules(tmp_path: Path) -> None:
    """The real ``pipeledger check`` in a GitHub Actions job, with the bundled baseline policy
    (loaded and validated), stopped at its first network call: the modules made lazy for the
    gate's cold start are not imported by then. Re-adding an eager import fails here."""
    policy = Path(__file__).resolve().parents[2] / "examples" / "policies" / "baseline.yml"
    environ = dict(GITHUB_JOB_ENV)
    argv = ["check", "--policy", str(policy), "--environment", "production"]
    argv += ["--sink", f"sqlite:///{tmp_path / 'ledger.db'}", "--retries", "0"]
    probe = (
        "import os, sys, threading\n"
        f"lazy = {NOT_BEFORE_THE_FIRST_REQUEST!r}\n"
        "first = threading.Lock()  # the gate asks independent things at once: report once\n"
        "def first_request(event, args):\n"
        "    if event in ('socket.getaddrinfo', 'socket.connect') and first.acquire(False):\n"
        "        found = sorted(m for m in sys.modules\n"
        "                       if any(m == n or m.startswith(n + '.') for n in lazy))\n"
        "        os.write(1, repr(found).encode())\n"
        "        os._exit(0)\n"
        "sys.addaudithook(first_request)\n"
        "from pipeledger.cli.main import main\n"
        f"code = main({argv!r}, environ={environ!r})\n"
        "print('no request was made; exit', code)\n"
        "os._exit(1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "[]", done.stdout
