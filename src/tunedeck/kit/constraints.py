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
from datetime import UTC, datetime
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
    r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
)


@dataclass(frozen=True, slots=True)
class DateTimeText:
    """A time as RFC 3339 text (without an offset: UTC; a number or a bare date is
    refused, not read as a Unix timestamp); the value is the moment in UTC. A
    ``datetime`` given by another door (a GraphQL scalar) is taken as it is."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_moment, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": f"^{DATE_TIME}$"}


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    elif isinstance(value, str) and re.fullmatch(DATE_TIME, value):
        try:
            moment = datetime.fromisoformat(value.upper())
        except ValueError:
            raise _not_a_time(value) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        raise _not_a_time(value)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise _not_a_time(value) from None


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
