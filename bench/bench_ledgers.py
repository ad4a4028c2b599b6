"""Events per second into the SQLite and PostgreSQL ledgers through the fan-out (hash chain,
dedupe, checkpoints every 1000 events), redelivery, two concurrent PostgreSQL writers, and
verify speed. Events are built before the clock starts.

PostgreSQL: ``PIPELEDGER_BENCH_POSTGRES_URL`` or postgresql://postgres@127.0.0.1:5432/test; a
temporary schema is created and dropped.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeledger.events import Actor, ActorType, AuditEvent, EventKind, Scope, Source, event_id
from pipeledger.ledger.chain_check import verify_rows
from pipeledger.ledger.signing import Signer, generate_key_pair, signer_from_environ
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet

EVENTS = 20_000
BATCH = 500
SETTINGS = SinkSettings(environ={})
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def make_events(count: int, start: int = 0) -> list[AuditEvent]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        AuditEvent(
            id=event_id("bench", "forge.example", "/deployments/{id}", str(n)),
            kind=EventKind.DEPLOYMENT,
            action="success",
            occurred_at=base + timedelta(seconds=n),
            platform="bench",
            instance="forge.example",
            actor=Actor(login=f"user{n % 50}", id=str(n % 50), type=ActorType.USER),
            scope=Scope(owner="acme", repository=f"repo{n % 20}", environment="production"),
            source=Source(endpoint="/deployments/{id}", native_id=str(n)),
            ref="refs/heads/main",
            sha=f"{n:040x}",
            correlation={"run_id": str(n), "deployment_id": str(n)},
            links={"html": f"https://forge.example/acme/repo/deployments/{n}"},
        )
        for n in range(start, start + count)
    ]


def signer() -> Signer:
    private_pem, _, _ = generate_key_pair()
    made = signer_from_environ({"PIPELEDGER_SIGNING_KEY": private_pem.decode()})
    assert made is not None
    return made


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fill(url: str, events: list[AuditEvent], signing: Signer | None) -> float:
    """Seconds to append (and checkpoint at the end); opening the store is not counted."""
    sinks = SinkSet.open([url], SETTINGS, signer=signing)
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        sinks.append(events[start : start + BATCH], {"cursor": str(start)})
    sinks.close()
    return time.perf_counter() - started


def report(store: str, events: list[AuditEvent], url: str) -> None:
    elapsed = fill(url, events, None)
    print(f"{store}: append {len(events)} events: {len(events) / elapsed:,.0f} events/s")
    more = make_events(len(events), start=len(events))
    elapsed = fill(url, more, signer())
    print(
        f"{store}: append {len(more)} more, signed checkpoints: {len(more) / elapsed:,.0f} events/s"
    )
    elapsed = fill(url, events, None)
    print(f"{store}: redeliver {len(events)} known events: {len(events) / elapsed:,.0f} events/s")
    sinks = SinkSet.open([url], SETTINGS)
    elapsed = timed(lambda: verify_rows(sinks.ledger.rows()))
    total = sinks.ledger.head_seq()
    sinks.close()
    print(f"{store}: verify {total} records: {total / elapsed:,.0f} records/s")


@contextmanager
def postgres_url() -> Iterator[str | None]:
    try:
        import psycopg
    except ImportError:
        yield None
        return
    base = os.environ.get("PIPELEDGER_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    schema = f"bench_{secrets.token_hex(4)}"
    try:
        psycopg.connect(base, connect_timeout=3).close()
    except psycopg.Error:
        yield None
        return
    try:
        yield f"{base}?schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def concurrent(url: str, events: list[AuditEvent]) -> None:
    halves = [events[: len(events) // 2], events[len(events) // 2 :]]
    threads = [threading.Thread(target=fill, args=(url, half, None)) for half in halves]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    sinks = SinkSet.open([url], SETTINGS)
    ok = verify_rows(sinks.ledger.rows()).ok
    sinks.close()
    print(
        f"postgresql: 2 concurrent writers, {len(events)} events:"
        f" {len(events) / elapsed:,.0f} events/s (chain valid: {ok})"
    )


def main() -> None:
    events = make_events(EVENTS)
    print(f"{EVENTS} events in batches of {BATCH}; checkpoints every 1000 events")
    with tempfile.TemporaryDirectory() as scratch:
        report("sqlite", events, f"sqlite:///{Path(scratch) / 'bench.db'}")
    with postgres_url() as url:
        if url is None:
            print("postgresql: skipped (no server reachable)")
            return
        report("postgresql", events, url)
    with postgres_url() as url:
        if url is not None:
            concurrent(url, make_events(EVENTS, start=10 * EVENTS))


if __name__ == "__main__":
    main()
