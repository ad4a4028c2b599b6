"""The read path at scale (issue 13): peak memory of ``pipeledger audit`` and ``pipeledger
anomalies`` at 10,000, 100,000 and 1,000,000 events, and the throughput of ``events --format
json`` and ``verify``.

Ledgers come from the ``audit`` benchmark's generator (deployments with their run, statuses,
approval and reviews, plus access changes) through the real ``SqliteSink``. Each command runs
as its own ``pipeledger`` process, as a user runs it; its peak RSS and CPU time are the
kernel's figures for that process (``os.wait4``). ``PIPELEDGER_BENCH_SIZES`` picks the sizes
(default ``10000,100000,1000000``); ``PIPELEDGER_BENCH_LEDGERS=DIR`` keeps the ledgers there
and reuses them (writing 1,000,000 events takes minutes).

Run: ``python -m bench.run read_path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_audit import BUILTIN_RULES, fill, policy
from bench.figures import at_least, at_most, figure
from pipeledger import json_codec
from pipeledger.cli.main import main as cli_main
from pipeledger_sqlite.sink import SqliteSink

SIZES = (10_000, 100_000, 1_000_000)
RSS_LIMIT_MB = 200  # audit (and anomalies) of 1,000,000 events
TARGETS = {"events --format json": 60_000, "verify": 100_000}  # events/s on one core


@dataclass(frozen=True)
class Run:
    cpu: float
    wall: float
    peak_mb: float
    code: int


def run_command(args: list[str], module: str = "pipeledger") -> Run:
    """One process (the ``pipeledger`` CLI by default), stdout thrown away; the kernel's CPU
    and peak RSS for it."""
    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdout=sink, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        errors = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1: the audit found violations, as it should
        raise RuntimeError(f"pipeledger {' '.join(args)} failed: {errors.decode()}")
    return Run(
        cpu=usage.ru_utime + usage.ru_stime,
        wall=time.perf_counter() - started,
        peak_mb=usage.ru_maxrss / 1024,
        code=process.returncode,
    )


def report(name: str, size: int, run: Run) -> None:
    verdict = "within" if run.peak_mb <= RSS_LIMIT_MB else "OVER"
    print(
        f"{name} on {size:,} events: peak RSS {run.peak_mb:.0f} MB ({verdict} the"
        f" {RSS_LIMIT_MB} MB limit), {run.cpu:.1f} s CPU,"
        f" {size / run.cpu:,.0f} events/s for the whole process",
        flush=True,
    )
    limit = at_most(RSS_LIMIT_MB) if size >= 1_000_000 else None
    figure(f"{name}, {size:,} events: peak RSS", run.peak_mb, "MB", limit)


def best_of(args: list[str], times: int) -> Run:
    runs = [run_command(args) for _ in range(times)]
    return min(runs, key=lambda run: run.cpu)


def ledger_of(size: int, folder: Path) -> Path:
    path = folder / f"ledger-{size}.db"
    if path.exists():
        return path
    partial = folder / f"ledger-{size}.partial.db"
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    ledger = SqliteSink(partial)
    fill(ledger, size)
    ledger.close()
    partial.rename(path)
    print(f"  wrote {size:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def measure(folder: Path, sizes: list[int]) -> None:
    policy(folder, BUILTIN_RULES)  # writes and checks folder/policy.yml
    policy_path = folder / "policy.yml"
    startup = best_of(["--version"], 3)
    print(
        f"parser: {json_codec.parser_name()}; load average {os.getloadavg()[0]:.1f};"
        f" a pipeledger process that does nothing: {startup.cpu:.2f} s CPU,"
        f" {startup.peak_mb:.0f} MB"
    )
    for size in sizes:
        sink = f"sqlite:///{ledger_of(size, folder)}"
        for name, args in (
            ("audit", ["audit", "--policy", str(policy_path), "--sink", sink]),
            ("anomalies", ["anomalies", "--sink", sink, "--format", "json"]),
        ):
            report(name, size, best_of(args, 1))
        verdict_only = run_command([str(policy_path), sink], module="bench.audit_verdict")
        report("audit, verdict only (no report rendered)", size, verdict_only)
    size = 100_000 if 100_000 in sizes else sizes[0]
    sink = f"sqlite:///{ledger_of(size, folder)}"
    for name, args in (
        ("events --format json", ["events", "--format", "json", "--sink", sink]),
        ("verify", ["verify", "--sink", sink]),
    ):
        cpu = min(command_cpu(args) for _ in range(3))
        print(
            f"{name} on {size:,} events: {cpu:.2f} s CPU, {size / cpu:,.0f} events/s/core"
            f" (target >= {TARGETS[name]:,})",
            flush=True,
        )
        figure(f"{name}, {size:,} events", size / cpu, "events/s/core", at_least(TARGETS[name]))


def command_cpu(args: list[str]) -> float:
    """CPU time of one command run in this process (imports already done), output dropped."""
    with open(os.devnull, "w", encoding="utf-8") as sink:
        started = time.process_time()
        code = cli_main(args, environ=dict(os.environ), stdout=sink, stderr=sink)
        cpu = time.process_time() - started
    if code != 0:
        raise RuntimeError(f"pipeledger {' '.join(args)} exited {code}")
    return cpu


def main() -> None:
    sizes = [int(n) for n in os.environ.get("PIPELEDGER_BENCH_SIZES", "").split(",") if n]
    kept = os.environ.get("PIPELEDGER_BENCH_LEDGERS")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        measure(Path(kept), sizes or list(SIZES))
        return
    with tempfile.TemporaryDirectory(prefix="pipeledger-bench-") as scratch:
        measure(Path(scratch), sizes or list(SIZES))


if __name__ == "__main__":
    main()
