"""Bearer secrets: generated with a kind prefix, stored only as SHA-256 hashes.

The secrets carry 256 bits of randomness, so a fast hash is enough (no password
stretching needed) and lets us look a secret up by its hash.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum


class SecretKind(StrEnum):
    API_KEY = "tdk_"
    OVERLAY_TOKEN = "tdo_"
    SESSION = "tds_"
    CHAT_TOKEN = "tdc_"  # in a chat bot's URL; the chat door alone accepts it


DISPLAY_PREFIX_LENGTH = 12


def new_secret(kind: SecretKind) -> str:
    return kind.value + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    """The first characters of a secret: enough to tell two apart, useless to an attacker."""
    return secret[:DISPLAY_PREFIX_LENGTH]


def kind_of(secret: str) -> SecretKind | None:
    return next((k for k in SecretKind if secret.startswith(k.value)), None)
