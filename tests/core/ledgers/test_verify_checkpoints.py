"""``pipeledger verify`` with checkpoints: a rewritten, truncated or re-signed ledger is
caught by the signatures (``--public-key``) or by a copy elsewhere (``--against``)."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from pipeledger.events import AuditEvent
from pipeledger.ledger.signing import signer_from_environ
from pipeledger.sinks.contract import SinkSettings
from pipeledger.sinks.fanout import SinkSet
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_event, make_events

SETTINGS = SinkSettings(environ={})


@dataclass
class Setup:
    ledger: Path
    copy: Path
    public_key: Path
    environ: dict[str, str]


def _cli(*args: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), environ=environ or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _fill(path: Path, copy: Path | None, environ: dict[str, str], events: list[AuditEvent]) -> None:
    urls = [f"sqlite:///{path}", *([f"jsonl:///{copy}"] if copy else [])]
    sinks = SinkSet.open(urls, SETTINGS, signer=signer_from_environ(environ), checkpoint_every=4)
    for start in range(0, len(events), 4):
        sinks.append(events[start : start + 4], {})
    sinks.close()
    assert sinks.failures == {}


@pytest.fixture
def signed(tmp_path: Path) -> Setup:
    assert _cli("keygen", "--out", str(tmp_path / "key"))[0] == 0
    environ = {"PIPELEDGER_SIGNING_KEY": str(tmp_path / "key.key")}
    setup = Setup(tmp_path / "l.db", tmp_path / "copy.jsonl", tmp_path / "key.pub", environ)
    _fill(setup.ledger, setup.copy, environ, make_events(12))
    return setup


def _verify(setup: Setup, *extra: str) -> tuple[int, str, str]:
    return _cli("verify", "--sink", f"sqlite:///{setup.ledger}", *extra)


def _sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    for trigger in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {trigger[0]}")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def _rewrite_from(setup: Setup, tmp_path: Path, altered: AuditEvent) -> None:
    """Replace the records with a consistent chain in which one event differs: what an
    attacker with write access does to hide a change."""
    events = [altered if e.id == altered.id else e for e in make_events(12)]
    forged = tmp_path / "forged.db"
    SqliteSink(forged).append(events, {})
    _sql(
        setup.ledger,
        f"ATTACH '{forged}' AS forged",
        "DELETE FROM events",
        "INSERT INTO events SELECT * FROM forged.events",
    )


def test_an_intact_signed_ledger_verifies_with_its_key_and_its_copy(signed: Setup) -> None:
    code, out, _ = _verify(
        signed, "--public-key", str(signed.public_key), "--against", f"jsonl:///{signed.copy}"
    )
    assert code == 0
    assert "12 records verified" in out
    assert "3 checkpoints in the ledger agree with the chain; signatures verified" in out
    assert f"jsonl:///{signed.copy}: 3 checkpoints of this chain agree" in out


def test_without_a_key_signatures_are_reported_unchecked(signed: Setup) -> None:
    code, out, _ = _verify(signed)
    assert code == 0
    assert "signatures not checked (pass --public-key)" in out


def test_a_wrong_key_is_detected(signed: Setup, tmp_path: Path) -> None:
    assert _cli("keygen", "--out", str(tmp_path / "other"))[0] == 0
    code, _, err = _verify(signed, "--public-key", str(tmp_path / "other.pub"))
    assert code == 4
    assert "checkpoint at seq 4" in err
    assert "not by the given key" in err


def test_an_altered_signature_is_detected(signed: Setup) -> None:
    _sql(
        signed.ledger,
        "UPDATE chain_checkpoints SET signature = 'AAAA' || substr(signature, 5) WHERE seq = 8",
    )
    code, _, err = _verify(signed, "--public-key", str(signed.public_key))
    assert code == 4
    assert "checkpoint at seq 8" in err
    assert "signature does not verify" in err


def test_a_rewritten_chain_contradicts_its_own_checkpoints(signed: Setup, tmp_path: Path) -> None:
    _rewrite_from(signed, tmp_path, make_event(6, action="cancelled"))
    code, _, err = _verify(signed)
    assert code == 4
    assert "seq 8" in err  # the first checkpoint after the change
    assert "after seq 4, where they last agree" in err


def test_a_rewrite_that_also_replaces_the_checkpoints_fails_on_signatures_and_copies(
    signed: Setup, tmp_path: Path
) -> None:
    _rewrite_from(signed, tmp_path, make_event(6, action="cancelled"))
    # The attacker removes the checkpoints and writes unsigned ones that match the forgery.
    _sql(signed.ledger, "DELETE FROM chain_checkpoints")
    sinks = SinkSet.open([f"sqlite:///{signed.ledger}"], SETTINGS)
    sinks.seal()
    sinks.close()
    assert _verify(signed)[0] == 0  # the chain alone cannot tell

    code, _, err = _verify(signed, "--public-key", str(signed.public_key))
    assert code == 4
    assert "it holds 12 records and no checkpoint signed with the given key" in err

    code, _, err = _verify(signed, "--against", f"jsonl:///{signed.copy}")
    assert code == 4
    assert "record seq 8" in err
    assert f"in jsonl:///{signed.copy} records the chain head at seq 8" in err


def test_a_truncated_ledger_is_detected(signed: Setup) -> None:
    _sql(signed.ledger, "DELETE FROM events WHERE seq > 9")
    code, _, err = _verify(signed)
    assert code == 4
    assert "record seq 10" in err
    assert "records were removed from the end" in err


def test_a_truncated_ledger_with_its_checkpoints_removed_is_caught_by_the_copy(
    signed: Setup,
) -> None:
    _sql(
        signed.ledger,
        "DELETE FROM events WHERE seq > 9",
        "DELETE FROM chain_checkpoints WHERE seq > 9",
    )
    code, _, err = _verify(signed, "--against", f"jsonl:///{signed.copy}")
    assert code == 4
    assert "the ledger ends at seq 9" in err


def test_a_replaced_ledger_is_unknown_to_the_copy(signed: Setup, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    _fill(other, None, {}, make_events(12))
    code, _, err = _cli(
        "verify", "--sink", f"sqlite:///{other}", "--against", f"jsonl:///{signed.copy}"
    )
    assert code == 4
    assert "holds no checkpoint of this ledger's chain" in err


def test_unsigned_checkpoints_still_expose_a_rewrite_through_a_copy(tmp_path: Path) -> None:
    setup = Setup(tmp_path / "l.db", tmp_path / "copy.jsonl", tmp_path / "none.pub", {})
    _fill(setup.ledger, setup.copy, {}, make_events(12))
    code, out, _ = _verify(setup, "--against", f"jsonl:///{setup.copy}")
    assert (code, "unsigned" in out) == (0, True)
    _rewrite_from(setup, tmp_path, make_event(2, outcome="failure"))
    _sql(setup.ledger, "DELETE FROM chain_checkpoints")
    code, _, err = _verify(setup, "--against", f"jsonl:///{setup.copy}")
    assert code == 4
    assert "record seq 4" in err


def test_records_added_after_the_last_signed_checkpoint_are_flagged(signed: Setup) -> None:
    # Someone without the key appends to the ledger.
    SqliteSink(signed.ledger).append(make_events(2, start=100), {})
    code, _, err = _verify(signed, "--public-key", str(signed.public_key))
    assert code == 4
    assert "records seq 13 to 14" in err
    # The key holder reviews them and signs the head with flush.
    assert _cli("flush", "--sink", f"sqlite:///{signed.ledger}", environ=signed.environ)[0] == 0
    assert _verify(signed, "--public-key", str(signed.public_key))[0] == 0


def test_against_a_sink_that_cannot_be_read_back_is_a_usage_error(signed: Setup) -> None:
    code, _, err = _verify(signed, "--against", "-")
    assert code == 2
    assert "cannot be read back" in err
