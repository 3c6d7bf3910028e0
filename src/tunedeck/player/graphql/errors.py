"""GraphQL errors in the REST error vocabulary: ``extensions.code`` is the TuneDeckError
code (``missing_permission``, ``validation_error``, ``no_active_device``...), with the
HTTP status it would have had; anything unexpected is ``internal_error`` with no detail."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from graphql import GraphQLError
from strawberry import Schema
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from tunedeck.kit.errors import (
    TuneDeckError,
    ValidationFailed,
    database_unavailable,
    describe,
    is_database_unavailable,
)

logger = logging.getLogger(__name__)

INVALID_QUERY = "graphql_invalid"
"""Code of a query the schema refuses (syntax, unknown field or argument, token and alias
limits, the operation to run); the depth and cost limits name their own (see ``limits``)."""

# graphql-core's words for a value its type cannot take (a string for an Int, a number
# for a String, a missing required argument): the same mistake REST calls invalid input.
_VALUE_REFUSED = re.compile(
    r"cannot represent|(got|has) invalid value|Expected value of type|of required type .* "
    r"was not provided|Expected type|does not exist in"
)


def _expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, TuneDeckError | GraphQLError)


def format_error(error: GraphQLError) -> dict[str, Any]:
    """One error of the answer, safe to show to the caller."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = list(error.path)
    original = error.original_error
    if original is not None and is_database_unavailable(original):
        original = database_unavailable()  # answered as any TuneDeck error is
    if isinstance(original, TuneDeckError):
        formatted["message"] = original.message
        extensions: dict[str, Any] = {"code": original.code, "status": original.status}
        if original.details is not None:
            extensions["details"] = original.details.to_dict()
    else:
        answered = _answered_as(error)
        if answered is None:  # ours to log: the caller learns nothing of it
            formatted["message"] = "Internal server error."
            answered = {"code": "internal_error", "status": 500}
        extensions = answered
    formatted["extensions"] = extensions
    return formatted


def _answered_as(error: GraphQLError) -> dict[str, Any] | None:
    """The code and status of an expected error that is not a TuneDeck error (None: an
    unexpected one)."""
    original = error.original_error
    named = error.extensions or {}
    if original is None and isinstance(named.get("code"), str):
        # A refusal that names its own code (the document limits), or an error formatted
        # already (``in_place``): its status, if it names one, else 400.
        return {"code": named["code"], "status": named.get("status", 400)}
    if _VALUE_REFUSED.search(error.message) and (
        original is None or isinstance(original, GraphQLError)
    ):
        return {"code": ValidationFailed.code, "status": ValidationFailed.status}
    if _expected(error):
        return {"code": INVALID_QUERY, "status": 400}
    return None


def in_place(error: GraphQLError) -> None:
    """Give ``error`` the message and extensions :func:`format_error` answers with, for the
    transports that format errors themselves (``GraphQLError.formatted``: WebSocket)."""
    formatted = format_error(error)
    error.message = formatted["message"]
    error.extensions = formatted["extensions"]


async def _formatted(results: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    try:
        async for result in results:
            for error in getattr(result, "errors", None) or ():
                if isinstance(error, GraphQLError):
                    in_place(error)
            yield result
    finally:
        await results.aclose()


class TuneDeckSchema(Schema):
    """Logs only what went wrong on our side; expected errors are answers, not incidents.
    Results streamed (over WebSocket) carry the same ``extensions.code`` as over HTTP."""

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        return _formatted(await super().stream(*args, **kwargs))

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One result for one operation (HTTP): never a subscription, which streams over
        WebSocket and, run once, would have nothing to answer with (refused: 400)."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is not None and is_database_unavailable(original):
                logger.warning(
                    "database unavailable in GraphQL %s: %s", error.path, describe(original)
                )
            elif not _expected(error):
                logger.error(
                    "unhandled error in GraphQL %s", error.path, exc_info=error.original_error
                )
