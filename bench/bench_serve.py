"""``pipeledger serve`` under load on loopback, into PostgreSQL: sustained deliveries per second
and latency at a fixed offered rate, then SIGKILL mid-load, restart, and a check that every
delivery that got a 2xx is in the ledger exactly once.

Target (issue 11): ≥ 1,000 deliveries/s for 60 s with p99 < 100 ms on the 2-core machine;
after the kill, 0 acknowledged deliveries lost and 0 duplicated.

The load generator is its own process (asyncio over raw keep-alive HTTP/1.1 connections, so
the client costs little CPU); ``serve`` is the real CLI in another. Requests are sent on a
fixed schedule (open loop) and latency is counted from the scheduled moment, so a stall of the
server shows up in the percentiles instead of slowing the generator down.

``python -m bench.run serve`` (code: ``bench/bench_serve.py``); ``BENCH_SERVE_SECONDS`` and
``BENCH_SERVE_RATE`` change the duration (default 60) and rate (default 1000).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret-0123456789abcdef"  # noqa: S105 - a throwaway test secret
EXAMPLE = ROOT / "tests" / "fixtures" / "octokit-webhooks" / "workflow_run" / "02-completed.json"
PG = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# Keep-alive connections of the load generator; each carries one delivery at a time, as
# GitHub's senders do, so this caps the deliveries in flight (and a group commit's size).
CONNECTIONS = int(os.environ.get("BENCH_SERVE_CONNECTIONS", "64"))
TARGET_RATE = 1000
TARGET_P99 = 0.100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Delivery:
    number: int
    request: bytes
    event_id: str


def deliveries(count: int, start: int = 0) -> list[Delivery]:
    """Distinct ``workflow_run`` deliveries (one event each), signed, as raw HTTP requests,
    with the id the event will have in the ledger."""
    from pipeledger_github.normalize.pipelines import run_event

    template = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    made = []
    for number in range(start, start + count):
        payload = copy.deepcopy(template)
        payload["workflow_run"]["id"] = 9_000_000_000 + number
        body = json.dumps(payload, separators=(",", ":")).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        head = (
            "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nX-GitHub-Event: workflow_run\r\n"
            f"X-GitHub-Delivery: bench-{number}\r\nX-Hub-Signature-256: {signature}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        event = run_event(payload["workflow_run"], "github.com")
        made.append(Delivery(number, head + body, event.id))
    return made


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    # (second of the schedule, latency): where in the run the slow answers were
    timeline: list[tuple[int, float]] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    started: float = 0.0

    def worst_seconds(self, count: int = 5) -> str:
        worst: dict[int, float] = {}
        for second, latency in self.timeline:
            worst[second] = max(worst.get(second, 0.0), latency)
        top = sorted(worst.items(), key=lambda item: -item[1])[:count]
        return ", ".join(f"s{second}: {latency * 1000:.0f} ms" for second, latency in top)


async def _send(
    port: int, queue: asyncio.Queue[tuple[float, Delivery] | None], results: Results
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while True:
        item = await queue.get()
        if item is None:
            break
        scheduled, delivery = item
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            writer.write(delivery.request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            status = 0
            if writer is not None:
                writer.close()
            reader = writer = None
        latency = time.perf_counter() - scheduled
        results.latencies.append(latency)
        results.timeline.append((int(scheduled - results.started), latency))
        results.statuses[status] = results.statuses.get(status, 0) + 1
        (results.acknowledged if 200 <= status < 300 else results.failed).append(delivery.number)
    if writer is not None:
        writer.close()


async def _offer(port: int, items: list[Delivery], rate: float, results: Results) -> float:
    queue: asyncio.Queue[tuple[float, Delivery] | None] = asyncio.Queue()
    senders = [asyncio.create_task(_send(port, queue, results)) for _ in range(CONNECTIONS)]
    start = time.perf_counter()
    results.started = start
    for index, delivery in enumerate(items):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, delivery))
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    return time.perf_counter() - start


def offer(port: int, items: list[Delivery], rate: float) -> tuple[Results, float]:
    results = Results()
    elapsed = asyncio.run(_offer(port, items, rate, results))
    return results, elapsed


def start_serve(port: int, sink: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELEDGER_")}
    env["PIPELEDGER_WEBHOOK_SECRET"] = SECRET
    argv = [sys.executable, "-m", "pipeledger", "serve", "--listen", f"127.0.0.1:{port}"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*argv, "--sink", sink, "--log-level", "warning"], env=env, stdout=out, stderr=out
        )
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"serve exited: {log.read_text()}") from None
            time.sleep(0.1)
    raise SystemExit("serve did not start")


def ledger_ids(sink: str) -> list[str]:
    from pipeledger.sinks.contract import Ledger, SinkSettings
    from pipeledger.sinks.fanout import open_sink

    ledger = open_sink(sink, SinkSettings(environ={}))
    assert isinstance(ledger, Ledger)
    try:
        return [record.event.id for record in ledger.records()]
    finally:
        ledger.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def sustained(tmp: Path, seconds: int, rate: int) -> None:
    sink = f"{PG}?schema=bench_serve_{os.getpid()}"
    port = free_port()
    items = deliveries(seconds * rate)
    process = start_serve(port, sink, tmp / "sustained.log")
    cpu_before = _cpu(process.pid)
    try:
        results, elapsed = offer(port, items, rate)
        cpu = _cpu(process.pid) - cpu_before
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    ids = ledger_ids(sink)
    acked = len(results.acknowledged)
    p50, p99 = percentile(results.latencies, 0.50), percentile(results.latencies, 0.99)
    print(
        f"sustained: offered {len(items)} deliveries at {rate}/s over {elapsed:.1f} s;"
        f" acknowledged {acked} ({acked / elapsed:.0f}/s), statuses {results.statuses};"
        f" latency p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms,"
        f" max {max(results.latencies) * 1000:.1f} ms; serve CPU {cpu:.1f} s"
        f" ({cpu / max(1, acked) * 1e6:.0f} µs/delivery); ledger holds {len(ids)} events"
    )
    print(f"slowest seconds of the run: {results.worst_seconds()}")
    ok = acked == len(items) and acked / elapsed >= rate * 0.98 and p99 < TARGET_P99
    print(
        f"target >= {TARGET_RATE}/s with p99 < {TARGET_P99 * 1000:.0f} ms:"
        f" {'met' if ok else 'NOT met'}"
    )


def killed(tmp: Path, rate: int) -> None:
    sink = f"{PG}?schema=bench_serve_kill_{os.getpid()}"
    port = free_port()
    items = deliveries(10 * rate, start=10_000_000)
    log = tmp / "killed.log"
    process = start_serve(port, sink, log)
    results = Results()
    restarted: list[subprocess.Popen[bytes]] = []

    async def scenario() -> None:
        offering = asyncio.create_task(_offer(port, items, rate, results))
        await asyncio.sleep(4)
        process.send_signal(signal.SIGKILL)
        process.wait()
        await asyncio.sleep(1)
        restarted.append(start_serve(port, sink, log))
        await offering

    asyncio.run(scenario())
    ids = ledger_ids(sink)
    by_number = {d.number: d for d in items}
    acked_ids = {by_number[n].event_id for n in results.acknowledged}
    lost = acked_ids - set(ids)
    duplicated = len(ids) - len(set(ids))
    print(
        f"SIGKILL mid-load: {len(items)} deliveries at {rate}/s, serve killed after 4 s and"
        f" restarted 1 s later; {len(results.acknowledged)} acknowledged, {len(results.failed)}"
        f" failed (connection refused/reset while down), statuses {results.statuses}; ledger"
        f" holds {len(ids)} events: lost {len(lost)}, duplicated {duplicated}"
    )
    # GitHub redelivers what failed (pipeledger webhooks redeliver): everything once.
    retry = [by_number[n] for n in results.failed]
    again, _ = offer(port, retry, rate)
    for server in restarted:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    ids = ledger_ids(sink)
    everything = {d.event_id for d in items}
    print(
        f"after redelivering the {len(retry)} failed ones ({again.statuses}): ledger holds"
        f" {len(ids)} events, {len(everything - set(ids))} missing,"
        f" {len(ids) - len(set(ids))} duplicated"
    )


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    seconds = int(os.environ.get("BENCH_SERVE_SECONDS", "60"))
    rate = int(os.environ.get("BENCH_SERVE_RATE", str(TARGET_RATE)))
    with tempfile.TemporaryDirectory() as tmp:
        sustained(Path(tmp), seconds, rate)
        killed(Path(tmp), rate)


if __name__ == "__main__":
    main()
