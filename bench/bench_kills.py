"""Kills and faults survived: ``collect`` killed with SIGKILL at random moments and rerun each
time, against a fake GitHub (its own process, on 127.0.0.1) that answers a storm of injected
500/502/503 faults; at the end the SQLite ledger and its JSONL copy hold every event of the
fake org exactly once, and the chain verifies. Target: 0 events lost, 0 duplicated."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.github_expect import collected, expected, run_cli
from tests.e2e.test_kill_resume import TOKEN, _collector, _jsonl_ids, _stored
from tests.fakes.github_data import generate_org
from tests.paths import ROOT

KILLS = 30
SPEC = {"repos": 4, "runs": 120, "deploy": 0.25, "seed": 11}
FAULT_SHARE = 0.08  # of the first 4,000 requests
FAULT_STATUSES = (500, 502, 503)


def main() -> None:
    rng = random.Random(15)  # noqa: S311 - when to kill, not a secret
    faults = {n: rng.choice(FAULT_STATUSES) for n in range(1, 4001) if rng.random() < FAULT_SHARE}
    org = generate_org(
        repos=SPEC["repos"],
        runs_per_repo=SPEC["runs"],
        deploy_fraction=SPEC["deploy"],
        seed=SPEC["seed"],
    )
    total = sum(sum(rows.values()) for rows in expected(org).values())
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "ledger.db"
        server, api_url = _fake_api(Path(folder), faults)
        try:
            landed, runs = _kill_repeatedly(api_url, db, total, rng)
            finished = _finish(api_url, db)
        finally:
            server.terminate()
            server.wait(timeout=10)
        complete = collected(db) == expected(org)
        code, _, _ = run_cli(["verify", "--sink", f"sqlite:///{db}"], {})
        copy_ids = _jsonl_ids(db.with_suffix(".jsonl"))
        stored = _stored(db)
    print(
        f"kills: {landed} SIGKILLs landed mid-run (of {KILLS} tried, {runs} runs in all);"
        f" faults injected: {len(faults)} ({FAULT_SHARE:.0%} of the first 4,000 requests,"
        f" 500/502/503); final run exit {finished}"
    )
    print(
        f"ledger: {stored} events of {total} expected, complete and exact: {complete};"
        f" JSONL copy: {len(copy_ids)} lines, {len(copy_ids) - len(set(copy_ids))} duplicated;"
        f" verify exit {code} (target: all equal, 0 duplicated, exit 0)"
    )


def _fake_api(folder: Path, faults: dict[int, int]) -> tuple[subprocess.Popen[bytes], str]:
    port_file = folder / "port"
    generate = ",".join(f"{k}={v}" for k, v in SPEC.items())
    spec = ",".join(f"{n}={status}" for n, status in sorted(faults.items()))
    argv = ["--generate", generate, "--port", "0", "--port-file", str(port_file)]
    argv += ["--token", TOKEN, "--delay", "0.004", "--faults", spec]
    server = subprocess.Popen([sys.executable, "-m", "tests.fakes.github_api", *argv], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text().strip():
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the fake GitHub API did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port_file.read_text().strip()}"


def _kill_repeatedly(api_url: str, db: Path, total: int, rng: random.Random) -> tuple[int, int]:
    """SIGKILL each run once it stored a few more events (a random number); how many kills
    landed mid-run, and how many runs were started."""
    landed = runs = 0
    for _ in range(KILLS):
        target = min(_stored(db) + rng.randint(1, max(2, total // KILLS)), total - 1)
        process = _collector(api_url, db)
        runs += 1
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if _stored(db) >= target:
                time.sleep(rng.random() * 0.05)  # not always right after a commit
                process.send_signal(signal.SIGKILL)
                landed += process.wait() == -signal.SIGKILL
                break
            time.sleep(0.005)
        process.wait()
    return landed, runs


def _finish(api_url: str, db: Path) -> int:
    """Rerun until a run completes (a fault storm may end one with exit 3, as documented)."""
    code = -1
    for _ in range(5):
        code = _collector(api_url, db).wait(timeout=300)
        if code == 0:
            break
    return code
