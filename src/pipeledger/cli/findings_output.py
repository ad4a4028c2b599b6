"""Options and output shared by ``check`` and ``audit``: the policy, ``--fail-on``, and the
findings formats written to stdout (``--format``) and files (``--output FORMAT=PATH``)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeledger.cli.command_context import Context
from pipeledger.cli.options import add_option
from pipeledger.errors import SinkError, UsageError
from pipeledger.held_secrets import held
from pipeledger.policy.model import FailOn
from pipeledger.printable import defuse_commands
from pipeledger.report import render, render_chunks
from pipeledger.report.model import Report, ReportFormat

FORMATS = ", ".join(f.value for f in ReportFormat)


@dataclass(frozen=True)
class Target:
    output_format: ReportFormat
    path: Path | None  # None: standard output


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy and findings")
    add_option(group, "--policy", metavar="FILE", help="policy file, in YAML")
    add_option(group, "--format", default="text", help=f"findings format on stdout: {FORMATS}")
    add_option(
        group,
        "--output",
        default=[],
        action="append",
        metavar="FORMAT=PATH",
        help="also write a format to a file, e.g. sarif=results.sarif; repeatable",
    )
    add_option(
        group,
        "--fail-on",
        default="error",
        help="lowest severity that fails: error, warning or never",
    )


def require_policy(args: argparse.Namespace, command: str) -> str:
    if not args.policy:
        raise UsageError(
            f"{command} needs --policy FILE.",
            "Start from examples/policies/baseline.yml (env PIPELEDGER_POLICY).",
        )
    return str(args.policy)


def parse_fail_on(value: str) -> FailOn:
    try:
        return FailOn(value)
    except ValueError:
        raise UsageError(
            f"--fail-on {value!r} is not a level.", "Use error, warning or never."
        ) from None


def parse_targets(stdout_format: str, outputs: Sequence[str]) -> list[Target]:
    targets = [Target(_format(stdout_format, "--format"), None)]
    for item in outputs:
        name, sep, path = item.partition("=")
        if not sep or not path:
            raise UsageError(
                f"--output {item!r} is not FORMAT=PATH.", "Write e.g. --output sarif=out.sarif."
            )
        targets.append(Target(_format(name, "--output"), Path(path)))
    return targets


def _format(name: str, option: str) -> ReportFormat:
    try:
        return ReportFormat(name.strip().lower())
    except ValueError:
        raise UsageError(f"{option} {name!r} is not a format.", f"Use one of: {FORMATS}.") from None


def emit(report: Report, targets: Sequence[Target], context: Context) -> None:
    """Write every requested format; GitHub's also fills the step summary and outputs."""
    announce_masks(targets, context)
    if any(t.output_format is ReportFormat.GITHUB for t in targets):
        _write_step_files(report, context)
    for target in targets:
        if target.path is None and target.output_format is ReportFormat.TEXT:
            if context.colors(context.stdout):
                text = context.masker.mask(render(target.output_format, report))
                context.out_report(_with_marks(text, report, context))
            else:  # plain text (a log, a file): written as it is made, masked piece by piece
                for chunk in render_chunks(ReportFormat.TEXT, report):
                    context.out_report(chunk)
            continue
        # Each piece ends between findings, so a credential is never split across two.
        pieces = (context.masker.mask(p) for p in render_chunks(target.output_format, report))
        if target.path is None:
            for piece in pieces:
                context.stdout.write(printable_stdout(target.output_format, piece))
        else:
            _write_pieces(target.path, pieces)


def announce_masks(targets: Sequence[Target], context: Context) -> None:
    """Inside GitHub Actions only, ``::add-mask::`` for each credential this run holds that
    the runner cannot know (a minted app token, a key read from a file, each line of a PEM
    key) — not every secret in the environment, and not a variable's value as it is (the
    runner already masks the secrets it put there; printing them again helps nothing). They
    go on the workflow-command stream: stdout when it carries ``--format github``, else
    stderr (the runner reads commands from both), so stdout of ``--format json`` stays JSON."""
    if context.environ.get("GITHUB_ACTIONS") != "true":
        return
    from pipeledger.report import github

    given = {value.strip() for value in context.environ.values()}
    # Unmasked on purpose: these lines tell the runner what to mask from now on.
    commands = github.mask_commands(piece for piece in held() if piece.strip() not in given)
    if not commands:
        return
    on_stdout = any(t.path is None and t.output_format is ReportFormat.GITHUB for t in targets)
    (context.stdout if on_stdout else context.stderr).write(commands)


VERDICT_MARKS = {"pass": "✓ ", "fail": "✗ ", "error": "✗ "}


def _with_marks(text: str, report: Report, context: Context) -> str:
    """On a colour terminal the verdict lines start with ✓ or ✗; plain text stays plain."""
    mark = VERDICT_MARKS.get(report.decision, "")
    if not mark or not context.colors(context.stdout):
        return text
    headline = f"pipeledger {report.command}:"
    lines = text.splitlines(keepends=True)
    return "".join(mark + line if line.startswith(headline) else line for line in lines)


def printable_stdout(output_format: ReportFormat, text: str) -> str:
    """Findings for a log: GitHub's format escapes what it quotes itself; the others keep
    their characters, with workflow commands defused (text goes through out_report, which
    makes it terminal-safe)."""
    if output_format is ReportFormat.GITHUB:
        return text
    return defuse_commands(text)


def _write_step_files(report: Report, context: Context) -> None:
    from pipeledger.report import github

    files = github.step_files(report)
    summary = context.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        _write(Path(summary), context.masker.mask(files.summary), append=True)
    outputs = context.environ.get("GITHUB_OUTPUT")
    if outputs:
        lines = "".join(f"{key}={value}\n" for key, value in files.outputs.items())
        _write(Path(outputs), lines, append=True)


def _write(path: Path, text: str, *, append: bool = False) -> None:
    _write_pieces(path, [text], append=append)


def _write_pieces(path: Path, pieces: Iterable[str], *, append: bool = False) -> None:
    try:
        with path.open("a" if append else "w", encoding="utf-8") as handle:
            for piece in pieces:
                handle.write(piece)
    except OSError as error:
        raise SinkError(
            f"Cannot write the findings file {path}: {error.strerror}.",
            "Check that its directory exists and is writable.",
        ) from None
