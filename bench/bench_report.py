"""``report``: the evidence pack over a 100,000-event ledger, and ``metrics`` over the same.

The ledger is bench_audit's (13,333 deployments with runs, statuses, approvals and reviews,
plus permission and protection changes, about a year of history); the pack covers the whole
year with the SOC 2 baseline policy, signed. Target: the pack in 10 s or less.
Run: ``python -m bench.run report``.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_audit import fill, policy
from pipeledger.dora import DoraSettings, compute_metrics
from pipeledger.evidence_pack.builder import build_pack, write_pack
from pipeledger.evidence_pack.controls import load_controls
from pipeledger.evidence_pack.options import PackOptions
from pipeledger.ledger_facts import ledger_facts
from pipeledger.period import parse_period
from pipeledger.policy.context import deployment_contexts
from pipeledger.signing import SIGNING_KEY_ENV, generate_key_pair, signer_from_environ
from pipeledger_sqlite.sink import SqliteSink

TARGET_SECONDS = 10.0


def build_once(ledger: SqliteSink, scratch: Path, run: int) -> dict[str, float]:
    private, _, _ = generate_key_pair()
    signer = signer_from_environ({SIGNING_KEY_ENV: private.decode()})
    options = PackOptions(
        period=parse_period("2026"),
        generated_at=datetime.now(UTC),
        seed=1,
        policy=policy(scratch, ""),
    )
    started, cpu = time.perf_counter(), time.process_time()
    files = build_pack(ledger, options, load_controls(None), signer)
    folder = scratch / f"pack-{run}"
    folder.mkdir()
    write_pack(folder, files)
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "files": len(files),
        "pages": sum(1 for name in files if name.startswith("deployments/")),
        "bytes": sum(len(data) for data in files.values()),
        "data_json": len(files["data.json"]),
    }


def metrics_once(ledger: SqliteSink) -> float:
    started = time.perf_counter()
    events = ledger_facts(ledger)
    compute_metrics(deployment_contexts(events), parse_period("2026"), DoraSettings())
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pipeledger-bench-") as scratch:
        folder = Path(scratch)
        ledger = SqliteSink(folder / "ledger.db")
        written = fill(ledger)
        print(f"ledger: {written:,} events")
        runs = [build_once(ledger, folder, run) for run in range(3)]
        best = min(runs, key=lambda figures: figures["wall"])
        verdict = "meets" if best["wall"] <= TARGET_SECONDS else "MISSES"
        print(
            f"evidence pack (best of 3): {best['wall']:.2f} s wall, {best['cpu']:.2f} s CPU;"
            f" {best['files']:.0f} files, {best['pages']:.0f} evidence pages,"
            f" {best['bytes'] / 1e6:.1f} MB (data.json {best['data_json'] / 1e6:.1f} MB);"
            f" {verdict} the {TARGET_SECONDS:.0f} s target"
        )
        walls = ", ".join(f"{r['wall']:.2f} s" for r in runs)
        print(f"  all runs: {walls}")
        metrics = min(metrics_once(ledger) for _ in range(3))
        print(f"metrics (read ledger + DORA), best of 3: {metrics:.2f} s")
        ledger.close()


if __name__ == "__main__":
    main()
