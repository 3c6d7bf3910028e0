"""Input rules stated once: each one checks a value (with a message for people) AND
states itself in the JSON schema, so ``/openapi.json`` says exactly what is accepted.

Use them as ``Annotated`` metadata on pydantic fields::

    TrackUri = Annotated[StrictStr, Matching(TRACK_URI, "track_uri", "a Spotify track URI")]
    Volume = Annotated[StrictInt, Between(0, 100)]

Patterns are written for every reader of the description: anchored, without ``\\s``,
``\\d`` or look-arounds (whose meaning differs between Python, ECMA-262 and Rust), and
matched whole (``fullmatch``: a trailing newline does not slip past ``$``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# What "blank" means, the same in the check and in the description: ASCII whitespace.
BLANK = " \t\n\r\x0b\x0c"
# Text never carries NUL (PostgreSQL cannot store it); the other rules come on top.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\x00\x09-\x0d\x20][^\x00]*$"


def shown(value: object) -> str:
    """A value as an error message quotes it (cut short)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Rule:
    """A check run after the type's own validation, and the JSON schema keys it adds."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def schema_keys(self) -> dict[str, Any]:
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        described = handler(schema)
        described.update(self.schema_keys())
        return described


@dataclass(frozen=True, slots=True)
class Matching(_Rule):
    """Text matching ``pattern`` whole; refused as ``rule``: "must be <what>, got ..."."""

    pattern: str
    rule: str
    what: str

    def check(self, value: str) -> str:
        if not re.fullmatch(self.pattern, value):
            raise PydanticCustomError(
                self.rule, "must be {what}, got {got}", {"what": self.what, "got": shown(value)}
            )
        return value

    def schema_keys(self) -> dict[str, Any]:
        return {"pattern": self.pattern}


@dataclass(frozen=True, slots=True)
class Between(_Rule):
    """An integer from ``low`` to ``high`` (inclusive; ``high=None``: no upper bound)."""

    low: int
    high: int | None = None

    def check(self, value: int) -> int:
        if self.high is None and value < self.low:
            raise PydanticCustomError(
                "out_of_range", "must be at least {low}, got {got}", {"low": self.low, "got": value}
            )
        if self.high is not None and not self.low <= value <= self.high:
            raise PydanticCustomError(
                "out_of_range",
                "must be between {low} and {high}, got {got}",
                {"low": self.low, "high": self.high, "got": value},
            )
        return value

    def schema_keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = {"minimum": self.low}
        if self.high is not None:
            keys["maximum"] = self.high
        return keys


@dataclass(frozen=True, slots=True)
class Text(_Rule):
    """Text of at most ``maximum`` characters as sent, without NUL, not blank unless
    ``blank_ok``; kept without the blanks around it."""

    maximum: int
    blank_ok: bool = False

    def check(self, value: str) -> str:
        if len(value) > self.maximum:
            raise PydanticCustomError(
                "too_long", "must be at most {maximum} characters", {"maximum": self.maximum}
            )
        if "\x00" in value:
            raise PydanticCustomError("nul_character", "must not contain NUL characters")
        text = value.strip(BLANK)
        if not text and not self.blank_ok:
            raise PydanticCustomError("empty", "must not be empty")
        return text

    def schema_keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = {"maxLength": self.maximum, "pattern": NO_NUL}
        if not self.blank_ok:
            keys.update(minLength=1, pattern=NOT_BLANK)
        return keys


# RFC 3339 (JSON Schema's "date-time"): a date, "T", a time, and an offset; without
# the offset, UTC. As a pattern, not the "date-time" format (which demands the offset).
DATE_TIME = (
    r"(?P<date>[0-9]{4}-(0[1-9]|1[0-2]))-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"[Tt](?P<time>([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?)"
    r"(?P<offset>[Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
)
_DATE_TIME_STATED = re.sub(r"\?P<\w+>", "", DATE_TIME)  # the same, without group names


@dataclass(frozen=True, slots=True)
class DateTimeText:
    """A time as RFC 3339 text (without an offset: UTC; a number or a bare date is
    refused, not read as a Unix timestamp); the value is the moment in UTC. A
    ``datetime`` given by another door (a GraphQL scalar) is taken as it is.

    Every text of the stated form is a moment, as a time filter wants it: a day past
    the month's end runs on into the next month (February 30 is March 2), and a time
    beyond the years a datetime holds (0000, 9999 and an offset) is the first or last
    one it holds."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_moment, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": f"^{_DATE_TIME_STATED}$"}


_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    found = re.fullmatch(DATE_TIME, value) if isinstance(value, str) else None
    if found is None:
        raise _not_a_time(value)
    offset = (found["offset"] or "Z").upper()
    days = int(found["day"]) - 1
    try:
        start = datetime.fromisoformat(f"{found['date']}-01T{found['time']}{offset}")
        return (start + timedelta(days=days)).astimezone(UTC)
    except (ValueError, OverflowError):  # year 0000, or past 9999 once in UTC
        return _FIRST if found["date"] < "5000" else _LAST


def _not_a_time(value: object) -> PydanticCustomError:
    return PydanticCustomError(
        "datetime_format",
        "must be a time like 2026-01-31T20:00:00Z (RFC 3339), got {got}",
        {"got": shown(value)},
    )


@dataclass(frozen=True, slots=True)
class JsonInteger:
    """An integer as JSON Schema counts them: ``90`` and ``90.0``, not ``true`` nor
    ``"90"`` (use with ``int``; pydantic's strict int refuses ``90.0``, its lax int
    takes ``"90"`` and ``true``)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_integer, handler(source))


def _integer(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("int_type", "must be an integer, got {got}", {"got": shown(value)})


@dataclass(frozen=True, slots=True)
class OneOf(_Rule):
    """One of ``choices``, exactly as written; refused naming the value and the choices."""

    choices: tuple[str, ...]

    def check(self, value: str) -> str:
        if value not in self.choices:
            raise PydanticCustomError(
                "unknown_value",
                "must be one of {choices}, got {got}",
                {"choices": ", ".join(self.choices), "got": shown(value)},
            )
        return value

    def schema_keys(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}
