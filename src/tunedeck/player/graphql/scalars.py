"""Scalars whose wire format must match REST's: times end in ``Z``, as pydantic writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition


def serialize_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, exactly as the REST door answers."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def parse_datetime(value: object) -> datetime:
    """ISO 8601 with an offset or ``Z``; a time without an offset is refused (ambiguous)."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date-time string, got {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("the date-time needs an offset or Z (UTC)")
    return parsed.astimezone(UTC)


SCALAR_MAP: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description="Date with time, ISO 8601 in UTC (2026-01-31T20:15:00.123456Z).",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    )
}
