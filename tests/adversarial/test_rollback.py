"""Verification that deletion cannot fool: checkpoints of format 2 chain themselves (counter
and the previous checkpoint's digest, inside the signature), ``verify --public-key`` refuses a
wiped ledger, and ``verify --against`` an exported checkpoint file catches a ledger cut back to
an earlier state, wiped, or replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeledger.sinks.contract import GENESIS_CHECKPOINT
from pipeledger.sinks.fanout import SinkSet
from pipeledger_sqlite.sink import SqliteSink
from tests.core.ledgers.factory import make_events
from tests.core.ledgers.test_verify_checkpoints import SETTINGS, Setup, _cli, _fill, _sql, _verify

pytest.importorskip("cryptography")


@pytest.fixture
def signed(tmp_path: Path) -> Setup:
    assert _cli("keygen", "--out", str(tmp_path / "key"))[0] == 0
    environ = {"PIPELEDGER_SIGNING_KEY": str(tmp_path / "key.key")}
    setup = Setup(tmp_path / "l.db", tmp_path / "copy.jsonl", tmp_path / "key.pub", environ)
    _fill(setup.ledger, None, environ, make_events(12))
    return setup


def _key(setup: Setup) -> tuple[str, str]:
    return "--public-key", str(setup.public_key)


def test_checkpoints_chain_by_counter_and_previous_digest(signed: Setup) -> None:
    ledger = SqliteSink(signed.ledger)
    own = ledger.own_checkpoints()
    ledger.close()
    assert [c.counter for c in own] == [1, 2, 3]
    assert own[0].previous == GENESIS_CHECKPOINT
    assert [c.previous for c in own[1:]] == [c.digest() for c in own[:-1]]
    assert all(b"pipeledger-checkpoint-v2" in c.signed_message() for c in own)


def test_a_passing_verify_reports_its_signed_coverage(signed: Setup) -> None:
    code, out, err = _verify(signed, *_key(signed))
    assert code == 0, err
    assert "coverage: records 1 to 12 of 12 (100.0 %)" in out


def test_a_checkpoint_removed_from_the_middle_is_detected(signed: Setup) -> None:
    _sql(signed.ledger, "DELETE FROM chain_checkpoints WHERE counter = 2")
    code, _, err = _verify(signed)
    assert code == 4
    assert "it is checkpoint 3 but checkpoint 2, which it follows, is missing" in err


def test_a_renumbered_checkpoint_no_longer_verifies(signed: Setup) -> None:
    _sql(signed.ledger, "UPDATE chain_checkpoints SET counter = 7 WHERE counter = 3")
    code, _, err = _verify(signed, *_key(signed))
    assert code == 4
    assert "its signature does not verify" in err or "is missing or differs" in err


def test_a_wiped_ledger_fails_with_a_public_key(signed: Setup) -> None:
    _sql(signed.ledger, "DELETE FROM events", "DELETE FROM chain_checkpoints")
    assert _verify(signed)[0] == 0  # without a key or a copy an empty ledger is consistent
    code, _, err = _verify(signed, *_key(signed))
    assert code == 4
    assert "it holds 0 records and no checkpoint signed with the given key" in err


def test_a_mistyped_ledger_path_is_an_error_and_is_not_created(signed: Setup) -> None:
    missing = signed.ledger.with_name("typo.db")
    code, _, err = _cli("verify", "--sink", f"sqlite:///{missing}", *_key(signed))
    assert code != 0
    assert "Traceback" not in err
    assert not missing.exists()


def test_rollback_to_an_earlier_state_is_caught_by_an_exported_checkpoint(
    signed: Setup, tmp_path: Path
) -> None:
    earlier = tmp_path / "earlier.db"
    shutil.copy(signed.ledger, earlier)  # what the attacker keeps to roll back to
    _fill(signed.ledger, None, signed.environ, make_events(20)[12:])
    exported = tmp_path / "head.json"
    code, out, err = _verify(signed, *_key(signed), "--export-checkpoint", str(exported))
    assert code == 0, err
    assert f"written to {exported}" in out
    document = json.loads(exported.read_text())
    assert document["checkpoint"]["seq"] == 20
    assert document["checkpoint"]["signature"]

    shutil.copy(earlier, signed.ledger)  # the rollback: a complete, signed, earlier ledger
    assert _verify(signed, *_key(signed))[0] == 0  # what no verifier alone can tell
    code, _, err = _verify(signed, *_key(signed), "--against", str(exported))
    assert code == 4
    assert "records were removed from the end" in err


def test_a_wiped_or_replaced_ledger_is_caught_by_an_exported_checkpoint(
    signed: Setup, tmp_path: Path
) -> None:
    exported = tmp_path / "head.json"
    assert _verify(signed, "--export-checkpoint", str(exported))[0] == 0
    signed.ledger.unlink()
    SinkSet.open([f"sqlite:///{signed.ledger}"], SETTINGS).close()  # a fresh, empty ledger
    code, _, err = _verify(signed, "--against", str(exported))
    assert code == 4
    assert "holds no checkpoint of this ledger's chain" in err


def test_checkpoints_deleted_with_their_records_are_caught_by_the_counter(
    signed: Setup, tmp_path: Path
) -> None:
    exported = tmp_path / "head.json"
    assert _verify(signed, "--export-checkpoint", str(exported))[0] == 0
    # Cut back to seq 8 and its checkpoint 2, records and checkpoints alike.
    _sql(
        signed.ledger,
        "DELETE FROM events WHERE seq > 8",
        "DELETE FROM chain_checkpoints WHERE counter > 2",
    )
    code, _, err = _verify(signed, "--against", str(exported))
    assert code == 4
    assert "records seq 12" in err or "the ledger ends at seq 8" in err


def test_against_a_file_that_is_not_a_checkpoint_is_a_usage_error(
    signed: Setup, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    code, _, err = _verify(signed, "--against", str(bogus))
    assert code == 2
    assert "--export-checkpoint" in err


def test_export_without_any_checkpoint_is_a_usage_error(tmp_path: Path) -> None:
    ledger = tmp_path / "empty.db"
    SinkSet.open([f"sqlite:///{ledger}"], SETTINGS).close()
    code, _, err = _cli(
        "verify", "--sink", f"sqlite:///{ledger}", "--export-checkpoint", str(tmp_path / "x")
    )
    assert code == 2
    assert "no checkpoint to export" in err
