"""Ed25519 keys: keygen's files, the signing key from the environment, key ids, and
signatures that fail on any change."""

from __future__ import annotations

import hashlib
import io
import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pipeledger.cli.main import main
from pipeledger.errors import ConfigError, UsageError
from pipeledger.ledger.signing import load_public_key, signer_from_environ
from pipeledger.sinks.contract import ChainCheckpoint

CHECKPOINT = ChainCheckpoint(
    seq=1000, head_hash="ab" * 32, created_at=datetime(2026, 3, 2, 10, 0, 1, 5, tzinfo=UTC)
)


def _keygen(tmp_path: Path, name: str = "k") -> tuple[Path, Path, str]:
    out = io.StringIO()
    prefix = tmp_path / name
    assert main(["keygen", "--out", str(prefix)], environ={}, stdout=out) == 0
    return prefix.with_suffix(".key"), prefix.with_suffix(".pub"), out.getvalue()


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    private, public, printed = _keygen(tmp_path)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "PIPELEDGER_SIGNING_KEY" in printed
    body = private.read_text().splitlines()[1]
    assert body not in printed  # the private key is never printed


def test_keygen_refuses_to_overwrite_a_key(tmp_path: Path) -> None:
    private, _, _ = _keygen(tmp_path)
    before = private.read_bytes()
    err = io.StringIO()
    code = main(["keygen", "--out", str(tmp_path / "k")], environ={}, stderr=err)
    assert code == 2
    assert "--force" in err.getvalue()
    assert private.read_bytes() == before


def test_key_id_is_the_start_of_the_public_keys_sha256(tmp_path: Path) -> None:
    _, public, printed = _keygen(tmp_path)
    key = serialization.load_pem_public_key(public.read_bytes())
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expected = hashlib.sha256(raw).hexdigest()[:16]
    assert load_public_key(str(public)).key_id == expected
    assert expected in printed


@pytest.mark.parametrize("form", ["path", "pem"])
def test_the_signing_key_comes_as_a_path_or_as_pem_text(tmp_path: Path, form: str) -> None:
    private, public, _ = _keygen(tmp_path)
    value = str(private) if form == "path" else private.read_text()
    signer = signer_from_environ({"PIPELEDGER_SIGNING_KEY": value})
    assert signer is not None
    signed = signer.sign(CHECKPOINT)
    assert signed.key_id == load_public_key(str(public)).key_id
    assert load_public_key(str(public)).verifies(signed)


def test_no_key_means_unsigned_checkpoints() -> None:
    assert signer_from_environ({}) is None
    assert signer_from_environ({"PIPELEDGER_SIGNING_KEY": "  "}) is None


def test_any_change_to_a_signed_checkpoint_breaks_its_signature(tmp_path: Path) -> None:
    private, public, _ = _keygen(tmp_path)
    signer = signer_from_environ({"PIPELEDGER_SIGNING_KEY": str(private)})
    assert signer is not None
    key = load_public_key(str(public))
    signed = signer.sign(CHECKPOINT)
    changes = [
        replace(signed, seq=999),
        replace(signed, head_hash="cd" * 32),
        replace(signed, created_at=datetime(2026, 3, 2, 10, 0, 2, tzinfo=UTC)),
        replace(signed, signature="AAAA" + (signed.signature or "")[4:]),
        replace(signed, signature="not base64!"),
        replace(signed, signature=None),
    ]
    assert [key.verifies(changed) for changed in changes] == [False] * len(changes)
    _, other_public, _ = _keygen(tmp_path, "other")
    assert not load_public_key(str(other_public)).verifies(signed)


def test_a_signed_checkpoint_survives_a_round_trip_through_json(tmp_path: Path) -> None:
    private, public, _ = _keygen(tmp_path)
    signer = signer_from_environ({"PIPELEDGER_SIGNING_KEY": str(private)})
    assert signer is not None
    signed = replace(signer.sign(replace(CHECKPOINT, chain_id="c1")))
    again = ChainCheckpoint.from_dict(signed.to_dict())
    assert again == signed
    assert load_public_key(str(public)).verifies(again)


def test_a_bad_signing_key_is_a_config_error_that_does_not_echo_it(tmp_path: Path) -> None:
    secret = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigError) as caught:
        signer_from_environ({"PIPELEDGER_SIGNING_KEY": secret})
    assert "bm90IGEga2V5" not in caught.value.describe()
    with pytest.raises(ConfigError, match="cannot be read"):
        signer_from_environ({"PIPELEDGER_SIGNING_KEY": str(tmp_path / "missing.key")})


def test_a_public_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "ec.pub"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(UsageError, match="not an Ed25519 public key"):
        load_public_key(str(path))
