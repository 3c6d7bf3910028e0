"""Input rules of the player operations, checked before anything is sent to Spotify.

Each checker returns the clean value or raises :class:`InvalidInput` (422,
``validation_error``) naming the field, so both doors refuse the same input the
same way. Field names are the REST (snake_case) names.
"""

from __future__ import annotations

import re
from typing import Literal

from tunedeck.kit.errors import ValidationFailed

RepeatMode = Literal["off", "context", "track"]
REPEAT_MODES: tuple[RepeatMode, ...] = ("off", "context", "track")

MAX_POSITION_MS = 24 * 3600 * 1000
"""Spotify refuses positions beyond a day; so do we, before asking."""
MAX_SEARCH_LIMIT = 50
MAX_QUERY_LENGTH = 250
MAX_PLAYLIST_NAME = 100
MAX_TRACKS_PER_CALL = 100
MAX_PAGE_LIMIT = 100
MAX_DEVICE_ID = 128

_ID = r"[0-9A-Za-z]{22}"
TRACK_URI = re.compile(rf"^spotify:track:{_ID}$")
PLAYLIST_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")
PLAYLIST_URI = re.compile(r"^spotify:playlist:([0-9A-Za-z]{1,64})$")
CONTEXT_URI = re.compile(
    rf"^spotify:(album|artist|show):{_ID}$|^spotify:playlist:[0-9A-Za-z]{{1,64}}$"
)
# Visible ASCII only: Spotify's device ids are hex, and a space or control byte is a typo.
DEVICE_ID = re.compile(rf"^[\x21-\x7e]{{1,{MAX_DEVICE_ID}}}$")


class InvalidInput(ValidationFailed):
    """A value the operation cannot accept; ``details.field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", details={"field": field})
        self.field = field


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _integer(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be an integer, got {_shown(value)}")
    return value


def required(value: object | None, field: str) -> object:
    if value is None:
        raise InvalidInput(field, "is required for this action")
    return value


def volume(value: object | None) -> int:
    percent = _integer(required(value, "volume_percent"), "volume_percent")
    if not 0 <= percent <= 100:
        raise InvalidInput("volume_percent", f"must be between 0 and 100, got {percent}")
    return percent


def position(value: object | None) -> int:
    ms = _integer(required(value, "position_ms"), "position_ms")
    if not 0 <= ms <= MAX_POSITION_MS:
        raise InvalidInput("position_ms", f"must be between 0 and {MAX_POSITION_MS}, got {ms}")
    return ms


def shuffle_state(value: object | None) -> bool:
    state = required(value, "state")
    if not isinstance(state, bool):
        raise InvalidInput("state", f"must be true or false, got {_shown(state)}")
    return state


def repeat_mode(value: object | None) -> RepeatMode:
    mode = required(value, "mode")
    if mode not in REPEAT_MODES:
        raise InvalidInput("mode", f"must be one of off, context, track; got {_shown(mode)}")
    return mode


def _matching(pattern: re.Pattern[str], value: object | None, field: str, what: str) -> str:
    text = required(value, field)
    if not isinstance(text, str) or not pattern.match(text):
        raise InvalidInput(field, f"must be {what}, got {_shown(text)}")
    return text


def track_uri(value: object | None, field: str = "uri") -> str:
    return _matching(TRACK_URI, value, field, "a Spotify track URI (spotify:track:<22 base62>)")


def track_uris(values: object | None, field: str = "uris") -> list[str]:
    items = required(values, field)
    if not isinstance(items, list | tuple) or not items:
        raise InvalidInput(field, "must be a non-empty list of Spotify track URIs")
    if len(items) > MAX_TRACKS_PER_CALL:
        raise InvalidInput(field, f"at most {MAX_TRACKS_PER_CALL} URIs at a time")
    return [track_uri(item, f"{field}[{i}]") for i, item in enumerate(items)]


def context_uri(value: object | None, field: str = "context_uri") -> str:
    return _matching(
        CONTEXT_URI,
        value,
        field,
        "a Spotify album, artist, show or playlist URI (spotify:album:<id>, ...)",
    )


def playlist_uri(value: object | None, field: str = "uri") -> str:
    return _matching(PLAYLIST_URI, value, field, "a Spotify playlist URI (spotify:playlist:<id>)")


def playlist_id(value: object | None, field: str = "playlist_id") -> str:
    return _matching(PLAYLIST_ID, value, field, "a Spotify playlist id (base62)")


def device_id(value: object | None, field: str = "device_id") -> str:
    return _matching(DEVICE_ID, value, field, f"a device id (1-{MAX_DEVICE_ID} visible characters)")


def playlist_name(value: object | None, field: str = "name") -> str:
    name = required(value, field)
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(field, "must be a non-empty name")
    name = name.strip()
    if len(name) > MAX_PLAYLIST_NAME:
        raise InvalidInput(field, f"must be at most {MAX_PLAYLIST_NAME} characters")
    return name


def search_query(value: object | None) -> str:
    query = required(value, "query")
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("query", "must not be empty")
    query = query.strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput("query", f"must be at most {MAX_QUERY_LENGTH} characters")
    return query


def limit(value: object | None, *, maximum: int, field: str = "limit") -> int:
    count = _integer(required(value, field), field)
    if not 1 <= count <= maximum:
        raise InvalidInput(field, f"must be between 1 and {maximum}, got {count}")
    return count


def offset(value: object | None, field: str = "offset") -> int:
    start = _integer(required(value, field), field)
    if start < 0:
        raise InvalidInput(field, f"must not be negative, got {start}")
    return start


def optional_text(value: object | None, field: str, *, maximum: int = 2048) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > maximum:
        raise InvalidInput(field, f"must be text of at most {maximum} characters")
    return value


def optional_count(value: object | None, field: str) -> int | None:
    if value is None:
        return None
    count = _integer(value, field)
    if count < 0:
        raise InvalidInput(field, f"must not be negative, got {count}")
    return count


def optional_url(value: object | None, field: str) -> str | None:
    """An http(s) link (covers and playlist links end up in overlays: no other schemes)."""
    text = optional_text(value, field)
    if text is not None and not re.match(r"^https?://[^\s]+$", text):
        raise InvalidInput(field, "must be an http or https URL")
    return text
