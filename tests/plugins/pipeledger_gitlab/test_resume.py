"""Kill-and-resume: a collect killed with SIGKILL mid-run, then rerun, ends with exactly the
fake's data: nothing lost, nothing twice, the hash chain intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_generate import expected_records, generate_group
from tests.plugins.pipeledger_gitlab.helpers import collect, ledger_events, records

pytestmark = pytest.mark.e2e


def _start_collect(fake: FakeGitLab, db: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-c",
        "from pipeledger.cli.main import run; run()",
        "collect",
        "--platform",
        "gitlab",
        "--api-url",
        fake.api_url,
        "--group",
        "acme",
        "--sink",
        f"sqlite:///{db}",
    ]
    env = {"PATH": os.environ.get("PATH", ""), "GITLAB_TOKEN": DEFAULT_TOKEN}
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_after(process: subprocess.Popen[bytes], fake: FakeGitLab, requests: int) -> None:
    deadline = time.monotonic() + 30
    while fake.requests < requests:
        assert process.poll() is None, "collect finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_killed_twice_then_rerun_holds_exactly_the_data(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    # A little latency per request so the kills land mid-run, between and inside batches.
    with FakeGitLab(generate_group(), delay=0.004) as fake:
        expected = expected_records(fake.instance)
        counts = []
        for kill_at in (45, 100):
            _kill_after(_start_collect(fake, db), fake, fake.requests + kill_at)
            counts.append(len(ledger_events(db)) if db.exists() else 0)
        assert 0 < counts[0] < counts[1] < len(expected)
        details_before = fake.counts()["projects.pipeline"]
        run = collect(fake, db, "--group", "acme")
        assert run.code == 0, run.err
        events = ledger_events(db)
        assert records(events) == expected
        assert len(events) == len(expected)
        assert len({e.id for e in events}) == len(events)
        # The rerun resumed: it fetched only the pipelines the killed runs had not stored.
        fetched_again = fake.counts()["projects.pipeline"] - details_before
        assert fetched_again < sum(len(p.pipelines) for p in fake.instance.projects)
