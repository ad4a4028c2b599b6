"""Full ledger verification: the hash chain, every checkpoint of it (its own and those held
by copies elsewhere) and their signatures. The first problem by seq is the one reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeledger.ledger.chain_check import Anchor, BodySeen, VerifyReport, verify_rows
from pipeledger.ledger.signing import PublicKey
from pipeledger.sinks.contract import GENESIS_CHECKPOINT, ChainCheckpoint, Ledger


@dataclass(frozen=True)
class CopyCheckpoints:
    """The checkpoints another store (``verify --against``) holds."""

    url: str
    checkpoints: Sequence[ChainCheckpoint]


@dataclass(frozen=True)
class Problem:
    seq: int
    subject: str
    reason: str


@dataclass(frozen=True)
class Coverage:
    """How much of the chain a checkpoint signed with a given key vouches for."""

    covered_seq: int
    latest: ChainCheckpoint | None


@dataclass(frozen=True)
class Verdict:
    chain: VerifyReport
    own_checkpoints: int
    copy_checkpoints: dict[str, int]
    signed: int
    problem: Problem | None
    coverage: Coverage | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class _Located:
    checkpoint: ChainCheckpoint
    place: str


def verify_ledger(
    ledger: Ledger,
    keys: Sequence[PublicKey] = (),
    copies: Sequence[CopyCheckpoints] = (),
    each_body: BodySeen | None = None,
) -> Verdict:
    chain_id = ledger.chain_id
    located = [_Located(c, ledger.display_url) for c in ledger.own_checkpoints()]
    per_copy: dict[str, int] = {}
    problems: list[Problem] = []
    for copy in copies:
        mine = [c for c in copy.checkpoints if c.chain_id == chain_id]
        per_copy[copy.url] = len(mine)
        located.extend(_Located(c, copy.url) for c in mine)
        if not mine:
            problems.append(_empty_copy(copy.url, chain_id))
    anchors = [Anchor(x.checkpoint.seq, x.checkpoint.head_hash, _name(x)) for x in located]
    chain = verify_rows(ledger.rows(), anchors, each_body)
    if chain.first_break is not None:
        bad = chain.first_break
        subject = f"record seq {bad.seq}" + (f" (event {bad.event_id})" if bad.event_id else "")
        problems.append(Problem(bad.seq, subject, bad.reason))
    problems.extend(_continuity_problems(located, ledger.display_url))
    signed = [x for x in located if x.checkpoint.signature is not None]
    coverage = None
    if keys:
        coverage = _coverage(located, keys)
        bad_signatures = _signature_problems(located, {key.key_id: key for key in keys})
        # Uncovered records follow from a bad signature; name the cause, not the effect.
        problems.extend(bad_signatures or _uncovered(chain, coverage))
    first = min(problems, key=lambda problem: problem.seq, default=None)
    own = sum(1 for x in located if x.place == ledger.display_url)
    return Verdict(chain, own, per_copy, len(signed), first, coverage)


def _continuity_problems(located: list[_Located], ledger_url: str) -> list[Problem]:
    """Format-2 checkpoints form their own chain: counter 1 follows the genesis, each later
    one names the digest of a checkpoint with the counter before it, and the ledger holds
    the highest counter any copy has seen."""
    chained = [x for x in located if x.checkpoint.counter is not None]
    by_counter: dict[int, set[str]] = {}
    for item in chained:
        by_counter.setdefault(item.checkpoint.counter or 0, set()).add(item.checkpoint.digest())
    problems = []
    for item in chained:
        checkpoint = item.checkpoint
        counter = checkpoint.counter or 0
        expected = {GENESIS_CHECKPOINT} if counter == 1 else by_counter.get(counter - 1, set())
        if checkpoint.previous not in expected:
            problems.append(
                Problem(
                    checkpoint.seq,
                    _subject(item),
                    f"it is checkpoint {counter} but checkpoint {counter - 1}, which it follows,"
                    " is missing or differs (checkpoints were removed or replaced)",
                )
            )
    own = [x.checkpoint.counter or 0 for x in chained if x.place == ledger_url]
    highest_own = max(own, default=0)
    for item in chained:
        if item.place != ledger_url and (item.checkpoint.counter or 0) > highest_own:
            problems.append(
                Problem(
                    item.checkpoint.seq,
                    _subject(item),
                    f"it is checkpoint {item.checkpoint.counter}, but the ledger's own"
                    f" checkpoints end at {highest_own} (the ledger was rolled back, or its"
                    " latest checkpoints were removed)",
                )
            )
    return problems


def _coverage(located: list[_Located], keys: Sequence[PublicKey]) -> Coverage:
    trusted = {key.key_id: key for key in keys}
    valid = [
        x.checkpoint
        for x in located
        if x.checkpoint.key_id in trusted and trusted[x.checkpoint.key_id].verifies(x.checkpoint)
    ]
    latest = max(valid, key=lambda c: (c.seq, c.counter or 0), default=None)
    return Coverage(latest.seq if latest else 0, latest)


def _name(located: _Located) -> str:
    checkpoint = located.checkpoint
    signer = f", signed by key {checkpoint.key_id}" if checkpoint.key_id else ", unsigned"
    return f"the checkpoint of {checkpoint.created_at.isoformat()}{signer} in {located.place}"


def _empty_copy(url: str, chain_id: str) -> Problem:
    return Problem(
        0,
        f"the copy {url}",
        f"it holds no checkpoint of this ledger's chain (chain id {chain_id}), so it cannot"
        " vouch for it: the ledger was replaced, or this copy never received its checkpoints"
        " (run pipeledger flush)",
    )


def _signature_problems(located: list[_Located], keys: dict[str, PublicKey]) -> list[Problem]:
    problems = []
    for item in located:
        checkpoint = item.checkpoint
        if checkpoint.signature is None:
            continue  # unsigned checkpoints only anchor the chain; coverage is checked below
        key = keys.get(checkpoint.key_id or "")
        if key is None:
            reason = (
                f"it is signed by key {checkpoint.key_id}, not by the given key"
                f" {', '.join(sorted(keys))} (a wrong key, or a checkpoint forged with another)"
            )
        elif not key.verifies(checkpoint):
            reason = "its signature does not verify (the checkpoint was altered or forged)"
        else:
            continue
        problems.append(Problem(checkpoint.seq, _subject(item), reason))
    return problems


def _uncovered(chain: VerifyReport, coverage: Coverage) -> list[Problem]:
    """Records after the last validly signed checkpoint could have been added by anyone; and
    a ledger with no signed checkpoint at all proves nothing (wiped, or never signed)."""
    covered = coverage.covered_seq
    if coverage.latest is None:
        return [
            Problem(
                0,
                "the ledger",
                f"it holds {chain.checked} records and no checkpoint signed with the given key"
                " (the ledger was wiped or replaced, or was never signed: compare it --against"
                " an exported checkpoint or a copy)",
            )
        ]
    if chain.checked <= covered:
        return []
    return [
        Problem(
            covered + 1,
            f"records seq {covered + 1} to {chain.checked}",
            "no checkpoint signed with the given key covers them (records were added without"
            " the key, or a run was killed before its final checkpoint: if you trust them, run"
            " pipeledger flush with PIPELEDGER_SIGNING_KEY set to sign the head)",
        )
    ]


def _subject(item: _Located) -> str:
    checkpoint = item.checkpoint
    return (
        f"the checkpoint at seq {checkpoint.seq} of {checkpoint.created_at.isoformat()}"
        f" in {item.place}"
    )
