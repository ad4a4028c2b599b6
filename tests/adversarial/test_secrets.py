"""Secrets in output: masked everywhere (also a token minted or read during the run, and each
line of a PEM key), announced with ``::add-mask::`` only inside GitHub Actions, only for what
the run holds, and only on the workflow-command stream; ``--format json`` stays JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pipeledger.cli.command_context import Context
from pipeledger.collect.progress import StreamProgress
from pipeledger.held_secrets import forget_all, held, hold
from pipeledger.redact import SecretMasker
from tests.core.policy.fake_gate import FakeGateAdapter, fake_platform
from tests.core.policy.gate_cases import CASES
from tests.core.policy.test_check_cmd import SIGNING_PEM, check

__all__ = ["fake_platform"]

KEY_LINES = [line for line in SIGNING_PEM.splitlines() if not line.startswith("-----")]
UNUSED = "unused-env-secret-0123456789"


def gha(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "outputs.txt"),
        "PIPELEDGER_SIGNING_KEY": SIGNING_PEM,
        "SOME_OTHER_TOKEN": UNUSED,
        **extra,
    }


def test_json_on_stdout_stays_json_with_masks_on_stderr(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    github_file = tmp_path / "annotations.txt"
    code, out, err = check(
        tmp_path,
        CASES[5],
        "--format",
        "json",
        "--output",
        f"github={github_file}",
        environ=gha(tmp_path),
    )
    assert code == 1
    json.loads(out)  # nothing but the report
    assert "::add-mask::" not in out
    masks = [line for line in err.splitlines() if line.startswith("::add-mask::")]
    assert masks == [f"::add-mask::{line}" for line in KEY_LINES]
    assert UNUSED not in out + err  # not this run's: neither announced nor printed
    assert "::add-mask::" not in github_file.read_text()


def test_outside_github_actions_nothing_is_announced(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    environ = gha(tmp_path)
    del environ["GITHUB_ACTIONS"]
    code, out, err = check(tmp_path, CASES[5], "--format", "github", environ=environ)
    assert code == 1
    assert "::add-mask::" not in out + err
    assert all(line not in out + err for line in KEY_LINES)


def test_github_format_announces_on_stdout_before_any_annotation(
    fake_platform: type[FakeGateAdapter], tmp_path: Path
) -> None:
    code, out, _ = check(tmp_path, CASES[5], "--format", "github", environ=gha(tmp_path))
    assert code == 1
    lines = out.splitlines()
    assert lines[: len(KEY_LINES)] == [f"::add-mask::{line}" for line in KEY_LINES]
    assert all(not line.startswith("::add-mask::-----") for line in lines)


def test_a_credential_held_during_the_run_is_masked_like_an_environment_one() -> None:
    forget_all()
    minted = "ghs_minted_installation_token_0123"  # not in any environment variable
    hold(minted)
    out = io.StringIO()
    context = Context(environ={}, stdout=out, stderr=io.StringIO(), masker=SecretMasker())
    hold(SIGNING_PEM)
    context.out(f"token {minted} and a line of the key: {KEY_LINES[0]}")
    assert out.getvalue() == "token *** and a line of the key: ***\n"
    forget_all()
    assert held() == []


def test_an_environment_secret_in_an_unexpected_error_is_masked(tmp_path: Path) -> None:
    from pipeledger.cli.main import main

    secret = "glpat-CANARY-0123456789abcdef"
    err = io.StringIO()
    # A sink URL carrying the secret as its password, which cannot be opened.
    code = main(
        ["verify", "--sink", f"postgresql://u:{secret}@127.0.0.1:1/db?connect_timeout=1"],
        environ={"GITLAB_TOKEN": secret},
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code != 0
    assert secret not in err.getvalue()


def test_progress_lines_are_masked_and_made_safe() -> None:
    stream = io.StringIO()
    masker = SecretMasker(["tok-CANARY-123456"])
    context = Context(environ={}, stdout=io.StringIO(), stderr=stream, masker=masker)
    progress = StreamProgress(stream, safe=context.safe_text)
    progress.notice("GitHub said tok-CANARY-123456\n::error::owned \x1b[2J")
    progress.update(repository="acme/\x1b]0;x\x07web")
    text = stream.getvalue()
    assert "tok-CANARY" not in text and "\x1b" not in text
    assert "\n::error" not in text


def test_only_what_the_runner_cannot_know_is_announced() -> None:
    from pipeledger.cli.findings_output import Target, announce_masks
    from pipeledger.report.model import ReportFormat

    forget_all()
    given, minted = "ghp_from_the_workflow_0123456789", "ghs_minted_during_the_run_0123"
    hold(given)
    hold(minted)
    out, err = io.StringIO(), io.StringIO()
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": given}
    context = Context(environ=environ, stdout=out, stderr=err, masker=SecretMasker())
    announce_masks([Target(ReportFormat.JSON, None)], context)
    assert err.getvalue() == f"::add-mask::{minted}\n"
    assert out.getvalue() == ""
    forget_all()
