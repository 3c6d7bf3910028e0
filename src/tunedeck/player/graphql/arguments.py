"""GraphQL arguments into the operations' input models, with errors that name arguments.

Every GraphQL field builds its operation's model (``player.inputs``) here, so it is
validated by exactly the rules REST applies to a body. A refused value comes back as
``validation_error`` naming the argument as the caller wrote it (``trackUris[1]``,
``input.volumePercent``), not the model's snake_case field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from tunedeck.kit.errors import FieldError, ValidationFailed, field_errors
from tunedeck.player.inputs import parse

M = TypeVar("M", bound=BaseModel)

_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.S)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _renamed(errors: list[FieldError], names: Mapping[str, str], prefix: str) -> ValidationFailed:
    fields = []
    for error in errors:
        match = _HEAD.match(error.field)
        head, tail = (match.group(1), match.group(2)) if match else (error.field, "")
        argument = names.get(head, camel(head))
        fields.append(error.model_copy(update={"field": f"{prefix}{argument}{tail}"}))
    return ValidationFailed.of_fields(fields)


def build(model: type[M], *, renamed: Mapping[str, str] | None = None, **arguments: Any) -> M:
    """``model`` from GraphQL arguments named as the model's fields (snake_case);
    ``renamed`` maps a model field to the argument that carries it when the schema
    names it otherwise (``uris`` is ``trackUris`` in ``spotifyAddToPlaylist``)."""
    try:
        return parse(model, **arguments)
    except ValidationFailed as exc:
        errors = exc.details.fields if exc.details and exc.details.fields else []
        raise _renamed(errors, renamed or {}, "") from exc


def from_input(model: type[M], value: Any, argument: str = "input") -> M:
    """The ``model`` behind a generated input type (``SpotifyPlaybackInput``), validated."""
    try:
        built = value.to_pydantic()
    except PydanticValidationError as exc:
        raise _renamed(field_errors(exc.errors()), {}, f"{argument}.") from exc
    if not isinstance(built, model):
        raise TypeError(f"{type(value).__name__} does not build a {model.__name__}")
    return built
