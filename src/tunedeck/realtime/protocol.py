"""The live feed's wire protocol: close codes, limits, and what a client may send.

A client sends at most one message: ``{"type": "auth", "token": "...", "since": 123}``,
first, when it could not authenticate in the handshake (a browser cannot set headers,
and an overlay page keeps its token out of URLs), read as strictly as a request body
(``kit.json_body``). Anything else, or anything after it, closes the connection with
:attr:`CloseCode.BAD_MESSAGE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from tunedeck.kit.errors import InvalidJson
from tunedeck.kit.json_body import decode_json

MAX_FRAME = 64 * 1024
"""Largest frame a client may send, in bytes (UTF-8). The server refuses a message larger
than ``max_body_bytes`` before any of it reaches the app (1009, ``serving.uvicorn_options``);
this bound holds when an operator raises that setting."""
MAX_REASON = 123
"""A close reason's limit in bytes (RFC 6455)."""


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # the server shuts down
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013  # the database could not serve the connection just now
    BAD_MESSAGE = 4400
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    TOO_SLOW = 4408
    TOO_MANY = 4429  # over a connection cap, or too many failed sign-ins from the address


BUSY_REASON = "server busy: reconnect shortly"
"""The reason sent with :attr:`CloseCode.TRY_AGAIN_LATER`."""


class Refused(Exception):  # noqa: N818 (reads as an outcome)
    """The connection must be closed with ``code`` and ``reason`` (safe to show: no secret)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


def close_reason(reason: str) -> str:
    """``reason`` cut to what a close frame can carry."""
    encoded = reason.encode()
    if len(encoded) <= MAX_REASON:
        return reason
    return encoded[: MAX_REASON - 3].decode(errors="ignore") + "..."


@dataclass(frozen=True, slots=True)
class AuthMessage:
    """The client's first message: its credential and, when resuming, the last id it saw."""

    token: str
    since: int | None


def parse_since(value: Any, *, where: str) -> int | None:
    """A resume point (``since``, ``Last-Event-ID``): a non-negative integer, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Refused(CloseCode.BAD_MESSAGE, f"{where} must be a message id (an integer)")
    try:
        since = int(value)
    except (TypeError, ValueError):
        raise Refused(CloseCode.BAD_MESSAGE, f"{where} must be a message id (an integer)") from None
    if since < 0:
        raise Refused(CloseCode.BAD_MESSAGE, f"{where} must not be negative")
    return since


def read_frame(message: Mapping[str, Any]) -> dict[str, Any]:
    """A client frame (an ASGI ``websocket.receive``) as a JSON object, or :class:`Refused`."""
    text = message.get("text")
    if text is None:
        raise Refused(CloseCode.BAD_MESSAGE, "binary frames are not accepted: send JSON text")
    if len(text) > MAX_FRAME or len(text.encode()) > MAX_FRAME:
        raise Refused(CloseCode.BAD_MESSAGE, f"frame larger than {MAX_FRAME // 1024} KiB")
    try:
        parsed = decode_json(text, what="The message")
    except InvalidJson as exc:
        raise Refused(CloseCode.BAD_MESSAGE, close_reason(exc.message)) from None
    if not isinstance(parsed, dict):
        raise Refused(CloseCode.BAD_MESSAGE, "a message is a JSON object with a 'type'")
    return parsed


def parse_auth(frame: dict[str, Any]) -> AuthMessage:
    """The ``auth`` message, or :class:`Refused` (naming what is wrong, never the token)."""
    kind = frame.get("type")
    if kind != "auth":
        shown = kind if isinstance(kind, str) else type(kind).__name__
        raise Refused(
            CloseCode.BAD_MESSAGE,
            f"unexpected message type {shown[:40]!r}: the only message a client sends is "
            "'auth', first",
        )
    unknown = sorted(set(frame) - {"type", "token", "since"})
    if unknown:
        raise Refused(CloseCode.BAD_MESSAGE, f"unknown field {unknown[0][:40]!r} in 'auth'")
    token = frame.get("token")
    if not isinstance(token, str) or not token.strip():
        raise Refused(
            CloseCode.UNAUTHENTICATED, "'auth' needs a 'token' (an API key or overlay token)"
        )
    return AuthMessage(token.strip(), parse_since(frame.get("since"), where="since"))
