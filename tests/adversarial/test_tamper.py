"""Random tampering of many ledgers, unsigned and signed: every tampering the documentation
says ``verify`` detects must be detected (exit 4), 100 %.

Two ledgers of 40 records (a checkpoint every 8) are built once, one without a signing key
(unsigned checkpoints) and one with; each trial copies one, tampers with it behind the
ledger's back (triggers dropped, as an attacker with write access would) in one randomly
chosen way at a random place, and verifies the copy with the library ``pipeledger verify``
calls. What is promised (docs/security/integrity.md):

- unsigned, no key: every change that does not re-hash the chain after it;
- unsigned, against an exported checkpoint: that, and a cut back, a wipe or a re-hash
  of what the exported checkpoint covers;
- signed, with ``--public-key``: everything except a cut back to an earlier signed checkpoint,
  which needs ``--against`` an exported checkpoint (also tried here, with one).

The default run tries 300 ledgers with a fixed seed; ``make fuzz`` sets
``PIPELEDGER_TAMPER_TRIALS`` (1,000 or more).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeledger.ledger.chain import link_hash
from pipeledger.ledger.signing import PublicKey, load_public_key, signer_from_environ
from pipeledger.ledger.verify import CopyCheckpoints, verify_ledger
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_events

pytest.importorskip("cryptography")

TRIALS = int(os.environ.get("PIPELEDGER_TAMPER_TRIALS", "300"))
RECORDS = 40
Tamper = Callable[[sqlite3.Connection, random.Random], None]


def _edit_body(db: sqlite3.Connection, rng: random.Random) -> None:
    seq = rng.randint(1, RECORDS)
    (body,) = db.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()
    event = json.loads(body)
    event["action"] = "cancelled" if event["action"] != "cancelled" else "completed"
    db.execute("UPDATE events SET body = ? WHERE seq = ?", (json.dumps(event), seq))


def _edit_and_rehash_one(db: sqlite3.Connection, rng: random.Random) -> None:
    seq = rng.randint(1, RECORDS)
    body, prev = db.execute("SELECT body, prev_hash FROM events WHERE seq = ?", (seq,)).fetchone()
    forged = body.replace('"completed"', '"cancelled"').replace('"success"', '"failure"')
    db.execute(
        "UPDATE events SET body = ?, hash = ? WHERE seq = ?",
        (forged, link_hash(prev, seq, forged), seq),
    )


def _delete_middle(db: sqlite3.Connection, rng: random.Random) -> None:
    db.execute("DELETE FROM events WHERE seq = ?", (rng.randint(1, RECORDS - 1),))


def _swap(db: sqlite3.Connection, rng: random.Random) -> None:
    a, b = rng.sample(range(1, RECORDS + 1), 2)
    rows = {
        seq: db.execute("SELECT id, body FROM events WHERE seq = ?", (seq,)).fetchone()
        for seq in (a, b)
    }
    db.execute("UPDATE events SET id = 'swap-' || id WHERE seq IN (?, ?)", (a, b))
    for seq, other in ((a, b), (b, a)):
        db.execute("UPDATE events SET id = ?, body = ? WHERE seq = ?", (*rows[other], seq))


def _edit_index(db: sqlite3.Connection, rng: random.Random) -> None:
    db.execute("UPDATE events SET actor = 'mallory' WHERE seq = ?", (rng.randint(1, RECORDS),))


def _truncate_tail(db: sqlite3.Connection, rng: random.Random) -> None:
    db.execute("DELETE FROM events WHERE seq > ?", (rng.randint(0, RECORDS - 1),))


def _delete_checkpoint(db: sqlite3.Connection, rng: random.Random) -> None:
    (count,) = db.execute("SELECT max(counter) FROM chain_checkpoints").fetchone()
    db.execute("DELETE FROM chain_checkpoints WHERE counter = ?", (rng.randint(1, count - 1),))


def _alter_checkpoint(db: sqlite3.Connection, rng: random.Random) -> None:
    (count,) = db.execute("SELECT max(counter) FROM chain_checkpoints").fetchone()
    column, value = rng.choice(
        [("head_hash", "f" * 64), ("seq", 3), ("counter", 99), ("previous", "e" * 64)]
    )
    db.execute(
        f"UPDATE chain_checkpoints SET {column} = ? WHERE counter = ?",
        (value, rng.randint(1, count)),
    )


def _rehash_from(db: sqlite3.Connection, rng: random.Random) -> None:
    """The whole chain re-hashed after one change: only a signature or a copy can tell."""
    start = rng.randint(1, RECORDS)
    rows = db.execute("SELECT seq, body, prev_hash FROM events WHERE seq >= ?", (start,))
    rows = rows.fetchall()
    prev = rows[0][2]
    for seq, stored, _ in rows:
        body = stored.replace('"completed"', '"cancelled"') if seq == start else stored
        digest = link_hash(prev, seq, body)
        db.execute(
            "UPDATE events SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (body, prev, digest, seq),
        )
        prev = digest


def _wipe(db: sqlite3.Connection, rng: random.Random) -> None:
    db.execute("DELETE FROM events")
    db.execute("DELETE FROM chain_checkpoints")


def _cut_back(db: sqlite3.Connection, rng: random.Random) -> None:
    """Back to an earlier signed checkpoint, records and checkpoints alike."""
    (count,) = db.execute("SELECT max(counter) FROM chain_checkpoints").fetchone()
    keep = rng.randint(1, count - 1)
    (seq,) = db.execute("SELECT seq FROM chain_checkpoints WHERE counter = ?", (keep,)).fetchone()
    db.execute("DELETE FROM events WHERE seq > ?", (seq,))
    db.execute("DELETE FROM chain_checkpoints WHERE counter > ?", (keep,))


# Detected by the chain alone (no key, no copy) — and so also with a key.
WITHOUT_KEY: dict[str, Tamper] = {
    "edit a record": _edit_body,
    "edit a record and re-hash it": _edit_and_rehash_one,
    "delete a record": _delete_middle,
    "swap two records": _swap,
    "edit an index column": _edit_index,
    "cut records from the end": _truncate_tail,
    "delete a checkpoint": _delete_checkpoint,
    "alter a checkpoint": _alter_checkpoint,
}
WITH_KEY: dict[str, Tamper] = {
    **WITHOUT_KEY,
    "re-hash the chain after a change": _rehash_from,
    "wipe the ledger": _wipe,
}
WITH_EXPORTED_CHECKPOINT: dict[str, Tamper] = {"cut back to a signed checkpoint": _cut_back}
UNSIGNED_WITH_EXPORTED_CHECKPOINT: dict[str, Tamper] = {
    **WITHOUT_KEY,
    "cut back to an earlier checkpoint": _cut_back,
    "wipe the ledger": _wipe,
    "re-hash the chain after a change": _rehash_from,
}


Base = tuple[Path, PublicKey, CopyCheckpoints]


def _build(folder: Path, environ: dict[str, str]) -> tuple[Path, CopyCheckpoints]:
    """A ledger of RECORDS events in batches of 5 (a checkpoint every 8), and its newest
    checkpoint as an exported checkpoint file would hold it."""
    ledger = folder / "base.db"
    sinks = SinkSet.open(
        [f"sqlite:///{ledger}"],
        SinkSettings(environ={}),
        signer=signer_from_environ(environ),
        checkpoint_every=8,
    )
    events = make_events(RECORDS)
    for start in range(0, RECORDS, 5):
        sinks.append(events[start : start + 5], {})
    sinks.close()
    opened = SqliteSink(ledger, create=False)
    head = max(opened.own_checkpoints(), key=lambda c: c.counter or 0)
    opened.close()
    return ledger, CopyCheckpoints("exported.json", [head])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    from pipeledger.ledger.signing import generate_key_pair

    folder = tmp_path_factory.mktemp("tamper")
    private, public, _ = generate_key_pair()
    (folder / "key.pub").write_bytes(public)
    ledger, exported = _build(folder, {"PIPELEDGER_SIGNING_KEY": private.decode()})
    return ledger, load_public_key(str(folder / "key.pub")), exported


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory: pytest.TempPathFactory, base: Base) -> Base:
    """The same ledger built without a signing key: its checkpoints carry no signature."""
    ledger, exported = _build(tmp_path_factory.mktemp("tamper-unsigned"), {})
    return ledger, base[1], exported


def _detected(
    base: Base,
    folder: Path,
    tamper: Tamper,
    rng: random.Random,
    *,
    keyed: bool,
    against: bool,
) -> bool:
    source, key, exported = base
    copy = folder / "t.db"
    shutil.copy(source, copy)
    db = sqlite3.connect(copy)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    tamper(db, rng)
    db.commit()
    db.close()
    ledger = SqliteSink(copy, create=False)
    try:
        verdict = verify_ledger(ledger, [key] if keyed else [], [exported] if against else [])
    finally:
        ledger.close()
        copy.unlink()
    return not verdict.ok


def test_the_untouched_ledgers_verify(base: Base, unsigned: Base) -> None:
    for source, keys in ((base, [base[1]]), (unsigned, [])):
        ledger = SqliteSink(source[0], create=False)
        try:
            verdict = verify_ledger(ledger, keys, [source[2]])
            assert verdict.ok
            assert verdict.signed == (5 if keys else 0)  # 40 records, a checkpoint every 8
        finally:
            ledger.close()


def test_random_tampering_is_always_detected(base: Base, unsigned: Base, tmp_path: Path) -> None:
    rng = random.Random(15)
    plans = [
        ("unsigned ledger", unsigned, WITHOUT_KEY, False, False),
        (
            "unsigned ledger, against an exported checkpoint",
            unsigned,
            UNSIGNED_WITH_EXPORTED_CHECKPOINT,
            False,
            True,
        ),
        ("signed ledger, with the public key", base, WITH_KEY, True, False),
        (
            "signed ledger, against an exported checkpoint",
            base,
            WITH_EXPORTED_CHECKPOINT,
            True,
            True,
        ),
    ]
    missed: list[str] = []
    tried: Counter[str] = Counter()
    for trial in range(TRIALS):
        label, source, tampers, keyed, against = plans[trial % len(plans)]
        name = rng.choice(sorted(tampers))
        tried[label] += 1
        if not _detected(source, tmp_path, tampers[name], rng, keyed=keyed, against=against):
            missed.append(f"{label}: {name}")
    total = sum(tried.values())
    detected = total - len(missed)
    by_plan = ", ".join(f"{label} {count}" for label, count in tried.items())
    print(
        f"\ntamper figures: {total} ledgers tampered ({by_plan}), {detected} detected"
        f" ({detected / total:.1%})"
    )
    assert missed == []
