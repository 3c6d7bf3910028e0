"""Reading JSON strictly, the same way in every door: REST and GraphQL request bodies,
and the messages of both WebSockets (GraphQL subscriptions, the live feed).

``json.loads`` alone accepts what must not go further: bytes that are not UTF-8, a key
given twice (two parsers could each believe a different value), ``NaN``/``Infinity``,
numbers of thousands of digits, nesting deep enough to exhaust the decoder's stack,
and strings holding NUL or unpaired surrogates (which PostgreSQL and UTF-8 encoders
refuse later, as a 500). Each is refused here as ``invalid_json`` (400), naming what
is wrong, before any model sees the value.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

from tunedeck.kit.errors import InvalidJson, UnsupportedMediaType

MAX_NESTING = 32
"""Deepest nesting of arrays and objects a body may have; no input is deeper than 4."""
MAX_NUMBER_LENGTH = 32
"""Longest number literal: past 64-bit integers and doubles, no TuneDeck value fits."""
# NUL, and any surrogate: json.loads joins valid pairs, so one left alone is unpaired.
_UNSAFE_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class _RefusedError(ValueError):
    """A well-formed body with something TuneDeck does not accept in it."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _RefusedError(f"the key {key!r} appears twice in one object")
        found[key] = value
    return found


def _number(text: str) -> str:
    if len(text) > MAX_NUMBER_LENGTH:
        raise _RefusedError(f"a number has more than {MAX_NUMBER_LENGTH} characters")
    return text


def _int(text: str) -> int:
    return int(_number(text))


def _float(text: str) -> float:
    return float(_number(text))


def _constant(name: str) -> Any:
    raise _RefusedError(f"{name} is not JSON")


def _check_values(document: Any) -> None:
    """Nesting depth and the characters of every string (keys too), without recursion."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _UNSAFE_CHARACTER.search(value):
                raise _RefusedError("a string holds a NUL character or an unpaired surrogate")
        elif isinstance(value, dict | list):
            if depth >= MAX_NESTING:
                raise _RefusedError(f"it nests deeper than {MAX_NESTING} levels")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


def decode_json(body: bytes | str, *, what: str = "The request body") -> Any:
    """The value of a JSON body, or ``InvalidJson`` saying why it is refused; ``what``
    names the text in that message (a WebSocket message is not a request body)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"{what} is not valid UTF-8 (byte {exc.start}).") from None
    try:
        document = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
        _check_values(document)
    except json.JSONDecodeError as exc:
        raise InvalidJson(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})."
        ) from None
    except _RefusedError as exc:
        raise InvalidJson(f"{what} is refused: {exc}.") from None
    except RecursionError:
        # The C decoder stops at the interpreter's recursion limit, cleanly.
        raise InvalidJson(
            f"{what} is refused: it nests deeper than {MAX_NESTING} levels."
        ) from None
    return document


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json`` (parameters ignored)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class JsonBodyRequest(Request):
    """A request whose ``json()`` is :func:`decode_json` of a body declared as JSON."""

    _decoded: Any

    async def json(self) -> Any:
        if not hasattr(self, "_decoded"):
            body = await self.body()
            if not is_json_media_type(self.headers.get("content-type")):
                raise UnsupportedMediaType(
                    "The request body must be JSON (Content-Type: application/json)."
                )
            self._decoded = decode_json(body)
        return self._decoded
