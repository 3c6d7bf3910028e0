"""The keyring on its own: format, authentication of context, key handling."""

from __future__ import annotations

import base64
import os
import stat
import uuid
from pathlib import Path

import pytest

from tunedeck.kit.crypto import (
    DecryptionError,
    EncryptionContext,
    Keyring,
    KeyringError,
    ensure_key_file,
    key_file_path,
    load_keyring,
    new_key_entry,
)

ACCOUNT = uuid.uuid4()
CTX = EncryptionContext("app_credentials", "client_secret", ACCOUNT)


def test_round_trip_and_format() -> None:
    ring = Keyring.generate()
    token = ring.encrypt("s3cret-value", CTX)
    version, kid, _ = token.split(":")
    assert (version, kid) == ("v1", ring.primary_id)
    assert "s3cret-value" not in token
    assert ring.decrypt(token, CTX) == "s3cret-value"
    assert ring.decrypt(ring.encrypt("", CTX), CTX) == ""
    assert ring.decrypt(ring.encrypt("ünïcødé ✓", CTX), CTX) == "ünïcødé ✓"


def test_random_nonce_per_encryption() -> None:
    ring = Keyring.generate()
    tokens = {ring.encrypt("same", CTX) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {base64.urlsafe_b64decode(t.split(":")[2] + "==")[:12] for t in tokens}
    assert len(nonces) == 50


def test_wrong_key_refused() -> None:
    token = Keyring.generate().encrypt("value", CTX)
    other = Keyring.generate()
    with pytest.raises(DecryptionError, match="not in the keyring"):
        other.decrypt(token, CTX)
    # Same key id, different key material: the tag does not verify.
    kid = Keyring.key_id_of(token)
    impostor = Keyring.parse(f"{kid}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}")
    with pytest.raises(DecryptionError):
        impostor.decrypt(token, CTX)


def test_every_tampered_byte_refused() -> None:
    ring = Keyring.generate()
    token = ring.encrypt("value", CTX)
    prefix, payload = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        forged = f"{prefix}:{base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip('=')}"
        with pytest.raises(DecryptionError):
            ring.decrypt(forged, CTX)


@pytest.mark.parametrize(
    "other",
    [
        EncryptionContext("app_credentials", "client_secret", uuid.uuid4()),  # other account
        EncryptionContext("app_credentials", "client_id", ACCOUNT),  # other column
        EncryptionContext("channel_connections", "client_secret", ACCOUNT),  # other table
    ],
    ids=["account", "column", "table"],
)
def test_other_context_refused(other: EncryptionContext) -> None:
    ring = Keyring.generate()
    token = ring.encrypt("value", CTX)
    with pytest.raises(DecryptionError, match="does not authenticate"):
        ring.decrypt(token, other)


@pytest.mark.parametrize(
    "garbage", ["", "plaintext", "v1:k1", "v2:k1:AAAA", "v1:k1:!!!", "v1:k1:AAAA"]
)
def test_malformed_ciphertext_refused(garbage: str) -> None:
    with pytest.raises(DecryptionError):
        Keyring.generate().decrypt(garbage, CTX)


def test_rotation_keeps_old_keys_readable() -> None:
    old = Keyring.generate()
    token = old.encrypt("value", CTX)
    rotated = old.with_primary(Keyring.generate())
    assert rotated.primary_id != old.primary_id
    assert rotated.key_ids == (rotated.primary_id, old.primary_id)
    assert rotated.needs_rotation(token)
    assert rotated.decrypt(token, CTX) == "value"
    fresh = rotated.encrypt("value", CTX)
    assert not rotated.needs_rotation(fresh)
    pruned = rotated.without([old.primary_id])
    assert pruned.key_ids == (rotated.primary_id,)
    with pytest.raises(DecryptionError):
        pruned.decrypt(token, CTX)
    with pytest.raises(KeyringError, match="different key"):
        rotated.with_primary(Keyring.parse(f"{old.primary_id}:{new_key_entry().split(':')[1]}"))


def test_parse_and_serialize() -> None:
    first, second = new_key_entry(), new_key_entry()
    ring = Keyring.parse(f" {first} ,\n{second}\n")
    assert ring.primary_id == first.split(":")[0]
    assert Keyring.parse(ring.serialize()).serialize() == ring.serialize()
    # Standard base64 with padding is accepted too.
    std = base64.b64encode(os.urandom(32)).decode()
    assert Keyring.parse(f"k1:{std}").primary_id == "k1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("nokey", "kid:base64key"),
        ("k1:" + base64.urlsafe_b64encode(b"short").decode(), "32 bytes"),
        ("bad id!:" + base64.urlsafe_b64encode(os.urandom(32)).decode(), "key id"),
        ("k1:@@@@", "base64"),
    ],
    ids=["empty", "no-key", "short-key", "bad-key-id", "not-base64"],
)
def test_parse_errors_are_clear(value: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message):
        Keyring.parse(value)


def test_duplicate_key_id_refused() -> None:
    entry = new_key_entry()
    with pytest.raises(KeyringError, match="twice"):
        Keyring.parse(f"{entry},{entry}")


def test_repr_shows_no_key_material() -> None:
    ring = Keyring.generate()
    material = ring.serialize().split(":")[1]
    assert material not in repr(ring)
    assert ring.primary_id in repr(ring)


def test_key_file_created_once_private(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="TUNEDECK_ENCRYPTION_KEYS"):
        load_keyring(None, tmp_path)
    created = ensure_key_file(None, tmp_path)
    path = key_file_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = ensure_key_file(None, tmp_path)
    assert again.serialize() == created.serialize()
    assert load_keyring(None, tmp_path).serialize() == created.serialize()
    # The environment wins over the file.
    env = Keyring.generate()
    assert load_keyring(env.serialize(), tmp_path).primary_id == env.primary_id
    with pytest.raises(KeyringError, match="TUNEDECK_ENCRYPTION_KEYS"):
        load_keyring("garbage", tmp_path)
