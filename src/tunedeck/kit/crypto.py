"""Encryption at rest: AES-256-GCM with a keyring of named keys.

A ciphertext is the text ``v1:<key id>:<base64url(nonce || ciphertext+tag)>``. The
key id says which key decrypts it, so keys can be rotated while old rows still
read. The associated data binds a ciphertext to one table, column and account:
copied to another row or column it no longer decrypts.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tunedeck.kit.files import private_directory

FORMAT_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEY_FILE_NAME = "encryption.keys"


class KeyringError(ValueError):
    """The keyring configuration is missing or malformed."""


class DecryptionError(Exception):
    """A ciphertext cannot be decrypted: unknown key, wrong context, or tampered bytes."""


@dataclass(frozen=True, slots=True)
class EncryptionContext:
    """Where a ciphertext lives; authenticated (not encrypted) alongside it."""

    table: str
    column: str
    account_id: UUID | str

    def associated_data(self, key_id: str) -> bytes:
        parts = ("tunedeck", FORMAT_VERSION, key_id, self.table, self.column, str(self.account_id))
        return "|".join(parts).encode()


def _b64decode(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    try:
        normalized = padded.replace("+", "-").replace("/", "_")
        return base64.b64decode(normalized, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyringError("not valid base64") from exc


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_key_id() -> str:
    return "k" + secrets.token_hex(4)


def new_key_entry() -> str:
    """A fresh ``kid:key`` entry for TUNEDECK_ENCRYPTION_KEYS."""
    return f"{new_key_id()}:{_b64encode(AESGCM.generate_key(bit_length=256))}"


class Keyring:
    """Named 256-bit keys; the primary one encrypts, any of them decrypts."""

    __slots__ = ("_ciphers", "_keys", "_primary")

    def __init__(self, keys: Mapping[str, bytes], primary: str) -> None:
        if not keys:
            raise KeyringError("the keyring has no keys")
        for kid, key in keys.items():
            if not KEY_ID_PATTERN.match(kid):
                raise KeyringError(f"key id {kid!r} must be 1-32 of A-Z a-z 0-9 _ -")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {kid!r} must be {KEY_BYTES} bytes, got {len(key)}")
        if primary not in keys:
            raise KeyringError(f"primary key {primary!r} is not in the keyring")
        self._keys = dict(keys)
        self._primary = primary
        self._ciphers = {kid: AESGCM(key) for kid, key in self._keys.items()}

    @classmethod
    def parse(cls, value: str) -> Keyring:
        """Read ``kid:base64key,kid:base64key`` (first one primary; newlines also separate)."""
        entries = [e.strip() for e in re.split(r"[,\n]", value) if e.strip()]
        if not entries:
            raise KeyringError("the keyring is empty")
        keys: dict[str, bytes] = {}
        for entry in entries:
            kid, sep, encoded = entry.partition(":")
            kid = kid.strip()
            if not sep or not encoded.strip():
                raise KeyringError(
                    f"keyring entry for {kid or '?'!r} must look like 'kid:base64key'"
                )
            if kid in keys:
                raise KeyringError(f"key id {kid!r} appears twice")
            try:
                keys[kid] = _b64decode(encoded.strip())
            except KeyringError as exc:
                raise KeyringError(f"key {kid!r} is {exc}") from None
        return cls(keys, primary=next(iter(keys)))

    @classmethod
    def generate(cls) -> Keyring:
        return cls.parse(new_key_entry())

    @property
    def primary_id(self) -> str:
        return self._primary

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def with_primary(self, other: Keyring) -> Keyring:
        """This keyring with ``other``'s primary key as primary; every other key kept to read."""
        kid, key = other._primary, other._keys[other._primary]
        if kid in self._keys and self._keys[kid] != key:
            raise KeyringError(f"key id {kid!r} already names a different key")
        keys = {kid: key, **{k: v for k, v in self._keys.items() if k != kid}}
        return Keyring(keys, primary=kid)

    def without(self, kids: Iterable[str]) -> Keyring:
        """A keyring without the given keys (never without the primary)."""
        drop = set(kids) - {self._primary}
        return Keyring({k: v for k, v in self._keys.items() if k not in drop}, self._primary)

    def serialize(self) -> str:
        """The keyring as a TUNEDECK_ENCRYPTION_KEYS value (secret: never log it)."""
        return ",".join(f"{kid}:{_b64encode(key)}" for kid, key in self._keys.items())

    def encrypt(self, plaintext: str, context: EncryptionContext) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._primary].encrypt(
            nonce, plaintext.encode(), context.associated_data(self._primary)
        )
        return f"{FORMAT_VERSION}:{self._primary}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, context: EncryptionContext) -> str:
        kid, raw = self._split(token)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(f"ciphertext uses key {kid!r}, which is not in the keyring")
        try:
            plain = cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.associated_data(kid)
            )
        except InvalidTag:
            raise DecryptionError(
                f"ciphertext does not authenticate for {context.table}.{context.column}"
            ) from None
        return plain.decode()

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` was not encrypted with the primary key."""
        return self.key_id_of(token) != self._primary

    @staticmethod
    def key_id_of(token: str) -> str:
        return Keyring._split(token)[0]

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        version, _, rest = token.partition(":")
        kid, _, payload = rest.partition(":")
        if version != FORMAT_VERSION or not kid or not payload:
            raise DecryptionError("not a TuneDeck ciphertext")
        try:
            raw = _b64decode(payload)
        except KeyringError:
            raise DecryptionError("ciphertext is not valid base64") from None
        if len(raw) < NONCE_BYTES + 16:
            raise DecryptionError("ciphertext is too short")
        return kid, raw

    def __repr__(self) -> str:
        # Key ids only: key material never appears in logs or tracebacks.
        return f"Keyring(primary={self._primary!r}, keys={list(self._keys)!r})"


def key_file_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def read_key_file(path: Path) -> Keyring:
    try:
        return Keyring.parse(path.read_text())
    except KeyringError as exc:
        raise KeyringError(f"{path}: {exc}") from None


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Write the keyring readable by the owner only, atomically (temp file + rename)."""
    private_directory(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(keyring.serialize().replace(",", "\n") + "\n")
    os.replace(tmp, path)


def load_keyring(encryption_keys: str | None, data_dir: Path) -> Keyring:
    """The configured keyring: TUNEDECK_ENCRYPTION_KEYS, else the key file in the data dir."""
    if encryption_keys:
        try:
            return Keyring.parse(encryption_keys)
        except KeyringError as exc:
            raise KeyringError(f"TUNEDECK_ENCRYPTION_KEYS: {exc}") from None
    path = key_file_path(data_dir)
    if path.exists():
        return read_key_file(path)
    raise KeyringError(
        "no encryption keys: set TUNEDECK_ENCRYPTION_KEYS "
        "(`tunedeck crypto new-key` prints one; every process sharing the database needs "
        f"the same), or put a key file at {path} (`tunedeck serve` makes one on the "
        "embedded SQLite database)"
    )


def ensure_key_file(encryption_keys: str | None, data_dir: Path) -> Keyring:
    """For the demo: the configured keyring, or a new key file in the data dir on first run."""
    if encryption_keys or key_file_path(data_dir).exists():
        return load_keyring(encryption_keys, data_dir)
    keyring = Keyring.generate()
    write_key_file(key_file_path(data_dir), keyring)
    return keyring
