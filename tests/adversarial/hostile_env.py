"""A fake forge behind a hostile proxy, a foreign host that must never hear from pipeledger,
and the check every attack ends with: no token left its host, no secret in any output.
Test modules import the fixtures they use from here."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from tests.adversarial.hostile import ForeignHost, HostileProxy
from tests.fakes.github_api import FakeGitHubServer
from tests.fakes.github_data import scenario_org

# Canaries: values that must never show up anywhere but in requests to their own host.
GITHUB_TOKEN = "ghp_CANARYgithubtoken0123456789abcdef"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run(argv: list[str], environ: dict[str, str]) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, environ=environ, stdout=out, stderr=err)
    return Outcome(code, out.getvalue(), err.getvalue())


def assert_nothing_leaked(
    foreign: ForeignHost, outcome: Outcome, secrets: list[str], *files: Path
) -> None:
    """The foreign host heard nothing, and no secret is in stdout, stderr or any file."""
    assert foreign.seen == [], f"requests reached another origin: {foreign.seen}"
    for secret in secrets:
        assert secret not in outcome.out
        assert secret not in outcome.err
        for path in files:
            for each in [path] if path.is_file() else sorted(path.rglob("*")):
                if each.is_file():
                    assert secret.encode() not in each.read_bytes(), each
    assert "Traceback" not in outcome.err
    # Nothing a server sent may reach the log as a workflow command or a terminal escape.
    assert not re.search(r"^\s*::", outcome.err, re.MULTILINE)
    assert "\x1b" not in outcome.out + outcome.err


@pytest.fixture
def foreign() -> Iterator[ForeignHost]:
    with ForeignHost() as host:
        yield host


@pytest.fixture
def github() -> Iterator[FakeGitHubServer]:
    with FakeGitHubServer(scenario_org(), token=GITHUB_TOKEN) as fake:
        yield fake


@pytest.fixture
def github_proxy(github: FakeGitHubServer) -> Iterator[HostileProxy]:
    with HostileProxy(github.base_url) as proxy:
        yield proxy
