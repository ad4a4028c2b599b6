"""``collect --concurrency`` and the unattended ``--max-wait``, and the projected finish."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeledger.cli.collect_cmd import max_wait_policy
from pipeledger.cli.command_context import Context
from pipeledger.cli.main import main
from pipeledger.collect._shared_progress import SharedProgress, projected_finish
from pipeledger.collect.progress import StreamProgress
from pipeledger.redact import SecretMasker

NOW = 1_700_000_000.0


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _context(environ: dict[str, str], stderr: io.StringIO) -> Context:
    return Context(environ=environ, stdout=io.StringIO(), stderr=stderr, masker=SecretMasker())


@pytest.mark.parametrize(
    ("argv", "environ", "config", "shown"),
    [
        (["--concurrency", "0"], {}, "", "--concurrency 0 is not"),
        (["--concurrency", "33"], {}, "", "from 1 to 32"),
        ([], {"PIPELEDGER_CONCURRENCY": "many"}, "", "--concurrency 'many'"),
        ([], {"PIPELEDGER_MAX_WAIT": "soon"}, "", "--max-wait 'soon'"),
        ([], {}, "concurrency: 0\n", "concurrency"),
    ],
)
def test_a_bad_concurrency_or_wait_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environ: dict[str, str],
    config: str,
    shown: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if config:
        (tmp_path / "pipeledger.yml").write_text(config)
    out, err = io.StringIO(), io.StringIO()
    command = ["collect", "--platform", "github", "--repo", "acme/web", *argv]
    code = main(command, {"GITHUB_TOKEN": "t", **environ}, out, err)
    assert code == 2
    assert shown in err.getvalue() and "Traceback" not in err.getvalue()
    assert not (tmp_path / "pipeledger.db").exists()


def test_max_wait_when_no_one_watches_runs_to_the_next_reset() -> None:
    # A terminal, no CI: the interactive default, no waiting through.
    assert max_wait_policy(None, _context({}, Tty())) == (900.0, False)
    # A CI job or a log file: wait through to the reset.
    assert max_wait_policy(None, _context({"CI": "true"}, Tty())) == (900.0, True)
    assert max_wait_policy(None, _context({}, io.StringIO())) == (900.0, True)
    # Given (flag, PIPELEDGER_MAX_WAIT or pipeledger.yml): exactly that.
    assert max_wait_policy("120", _context({"CI": "true"}, io.StringIO())) == (120.0, False)


def test_the_projection_follows_the_pace_and_waits_for_the_reset() -> None:
    assert projected_finish(now=NOW, elapsed=10, done=0, total=4) is None
    # 1 of 4 scopes in 10 s: 30 s more.
    assert projected_finish(now=NOW, elapsed=10, done=1, total=4) == NOW + 30
    # 100 requests for that scope, 300 more needed, 50 left before a reset in 600 s: the
    # remaining 250 go after the reset at 10 requests a second.
    finish = projected_finish(
        now=NOW,
        elapsed=10,
        done=1,
        total=4,
        requests=100,
        rate_remaining=50,
        rate_reset=NOW + 600,
    )
    assert finish == NOW + 600 + 25
    assert projected_finish(now=NOW, elapsed=10, done=4, total=4) == NOW


def test_plain_lines_show_the_projected_finish() -> None:
    stream = io.StringIO()
    clock = iter([NOW, NOW + 10])
    requests = iter([0, 100])
    shared = SharedProgress(StreamProgress(stream), lambda: next(requests), lambda: next(clock))
    shared.expect(repositories=3)
    shared.update(repository="acme/api")
    shared.scopes_begin()
    shared.scopes_stored(1, 3)
    shared.update(repository="acme/web")
    finish = datetime.fromtimestamp(NOW + 30, UTC)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "pipeledger: collecting acme/api (1/3)"
    assert lines[1] == (
        f"pipeledger: collecting acme/web (2/3), projected finish {finish:%Y-%m-%d %H:%M:%S} UTC"
    )
