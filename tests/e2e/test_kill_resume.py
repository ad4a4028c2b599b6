"""A collector killed with SIGKILL at arbitrary points and rerun loses and duplicates
nothing: the ledger ends equal to the fake API's data, and its chain verifies."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.github_expect import collected, expected, run_cli
from tests.fakes.github_data import generate_org
from tests.paths import ROOT

TOKEN = "ghp_kill_resume_token"
SPEC = {"repos": 4, "runs": 120, "deploy": 0.25, "seed": 11}


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[str]:
    """The fake GitHub API in its own process, slowed a little so a kill lands mid-run."""
    port_file = tmp_path / "port"
    generate = ",".join(f"{k}={v}" for k, v in SPEC.items())
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.github_api",
            "--generate",
            generate,
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--token",
            TOKEN,
            "--delay",
            "0.01",
        ],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "fake API did not start"
            assert server.poll() is None, "fake API exited"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().strip()}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _collector(
    api_url: str, db: Path, concurrency: str, stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeledger",
            "collect",
            "--platform",
            "github",
            "--api-url",
            api_url,
            "--org",
            "acme",
            "--since",
            "2025-01-01",
            "--sink",
            f"sqlite:///{db}",
            "--sink",
            f"jsonl:///{db.with_suffix('.jsonl')}",
            "--concurrency",
            concurrency,
        ],
        cwd=ROOT,
        env={**os.environ, "GITHUB_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _kill_after(process: subprocess.Popen[bytes], db: Path, at_least: int) -> bool:
    """SIGKILL once ``at_least`` events are stored; False if the run finished first."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if _stored(db) >= at_least:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.01)
    process.wait()
    return False


def _jsonl_ids(path: Path) -> list[str]:
    import json

    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line["event"]["id"] for line in lines if "event" in line]


def test_sigkill_at_several_points_then_rerun_loses_and_duplicates_nothing(
    fake_api: str, tmp_path: Path
) -> None:
    """Runs alternate between serial and eight workers (whose batches wait for the one
    writer), each resuming where the killed one left off."""
    db = tmp_path / "ledger.db"
    kills = 0
    for threshold, concurrency in ((1, "8"), (60, "1"), (200, "8"), (420, "1")):
        if _kill_after(_collector(fake_api, db, concurrency), db, threshold):
            kills += 1
    assert kills >= 2, "the collector finished before it could be killed"
    final = _collector(fake_api, db, "8", stderr=subprocess.PIPE)
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode(errors="replace")
    org = generate_org(
        repos=SPEC["repos"],
        runs_per_repo=SPEC["runs"],
        deploy_fraction=SPEC["deploy"],
        seed=SPEC["seed"],
    )
    assert collected(db) == expected(org)
    code, out, _ = run_cli(["verify", "--sink", f"sqlite:///{db}"], {})
    assert code == 0, out
    copy_ids = _jsonl_ids(db.with_suffix(".jsonl"))
    assert len(copy_ids) == len(set(copy_ids)) == _stored(db)
