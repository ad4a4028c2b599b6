"""Ed25519 signatures over chain checkpoints: the signing key from the environment, public
keys for ``verify``, key ids, and new key pairs for ``keygen``.

``cryptography`` is imported only here and only when a key is used (the ``signing`` extra).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeledger.errors import ConfigError, UsageError
from pipeledger.held_secrets import hold
from pipeledger.sinks.contract import ChainCheckpoint

SIGNING_KEY_ENV = "PIPELEDGER_SIGNING_KEY"
PEM_MARKER = "-----BEGIN"


def key_id(raw_public_key: bytes) -> str:
    """First 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """Signs checkpoints with the private key; never prints or stores it."""

    key_id: str
    _key: Any

    def sign(self, checkpoint: ChainCheckpoint) -> ChainCheckpoint:
        labelled = replace(checkpoint, key_id=self.key_id, signature=None)
        return replace(labelled, signature=self.sign_message(labelled.signed_message()))

    def sign_message(self, message: bytes) -> str:
        """The Ed25519 signature of ``message``, base64 (evidence pack manifests)."""
        return base64.b64encode(self._key.sign(message)).decode("ascii")


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    _key: Any

    def verifies(self, checkpoint: ChainCheckpoint) -> bool:
        if checkpoint.signature is None:
            return False
        return self.verifies_message(checkpoint.signed_message(), checkpoint.signature)

    def verifies_message(self, message: bytes, signature: str) -> bool:
        """Whether ``signature`` (base64) is this key's Ed25519 signature of ``message``."""
        from cryptography.exceptions import InvalidSignature

        try:
            self._key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def signer_from_environ(environ: Mapping[str, str]) -> Signer | None:
    """The signer for PIPELEDGER_SIGNING_KEY (PEM text or a path to a PEM file); None when
    unset, so checkpoints are written unsigned."""
    value = environ.get(SIGNING_KEY_ENV, "").strip()
    if not value:
        return None
    pem = value.encode() if value.startswith(PEM_MARKER) else _read_key_file(value)
    hold(pem.decode("utf-8", "replace"))
    key = _private_key(pem)
    return Signer(key_id=key_id(_raw_public(key.public_key())), _key=key)


def load_public_key(path: str) -> PublicKey:
    """A PEM public key (a private key file also works: its public half is used)."""
    pem = _read_pem(Path(path), "--public-key")
    serialization = _crypto_module("serialization")
    ed25519 = _crypto_module("ed25519")
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        key = _private_key(pem, what=f"the key in {path}").public_key()
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise UsageError(
            f"The key in {path} is not an Ed25519 public key.",
            "Use the .pub file written by pipeledger keygen.",
        )
    return PublicKey(key_id=key_id(_raw_public(key)), _key=key)


def generate_key_pair() -> tuple[bytes, bytes, str]:
    """A new key pair as (private PEM, public PEM, key id)."""
    serialization = _crypto_module("serialization")
    ed25519 = _crypto_module("ed25519")
    private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem, key_id(_raw_public(public))


def _read_key_file(path: str) -> bytes:
    if "\n" in path or len(path) > 4096:
        raise ConfigError(
            f"{SIGNING_KEY_ENV} is neither a PEM key nor a file path.",
            "Set it to the contents of the private key written by pipeledger keygen"
            " (starting with -----BEGIN PRIVATE KEY-----) or to that file's path.",
        )
    return _read_pem(Path(path), SIGNING_KEY_ENV)


def _read_pem(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"The key file named by {what} cannot be read: {error.strerror}.",
            "Check the path and the file's permissions.",
        ) from None


def _private_key(pem: bytes, what: str = SIGNING_KEY_ENV) -> Any:
    serialization = _crypto_module("serialization")
    ed25519 = _crypto_module("ed25519")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        # Never echo the value: it is (or names) a secret.
        raise ConfigError(
            f"{what} is not an unencrypted PEM private key.",
            "Create one with pipeledger keygen; encrypted keys are not supported.",
        ) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ConfigError(f"{what} is not an Ed25519 key.", "Create one with pipeledger keygen.")
    return key


def _raw_public(key: Any) -> bytes:
    serialization = _crypto_module("serialization")
    raw: bytes = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw


def _crypto_module(name: str) -> Any:
    try:
        if name == "ed25519":
            from cryptography.hazmat.primitives.asymmetric import ed25519

            return ed25519
        from cryptography.hazmat.primitives import serialization

        return serialization
    except ImportError:
        raise UsageError(
            "Signed checkpoints need the cryptography library, which is not installed.",
            "Install it with pip install 'pipeledger[signing]'.",
        ) from None
