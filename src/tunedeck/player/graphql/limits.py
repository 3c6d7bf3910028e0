"""Rate limits in the GraphQL door: each player field spends its token (``player.limits``).

:func:`within_limits` gives a field's permission class, listed after the field's
permission (a caller without the permission spends nothing). A refused field answers
with ``extensions.code`` ``too_many_requests``, ``status`` 429 and
``details.retry_after``. Over HTTP, :class:`RefusedStatus` also sets ``Retry-After`` on
the response and, when no field of the operation was admitted (nothing reached
Spotify, so the whole request may be sent again), the status 429, as REST answers.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, ClassVar

from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import Info

from tunedeck.accounts.permissions import Permission
from tunedeck.player.graphql.context import GraphQLContext, LimitedCalls
from tunedeck.player.limits import TooManyRequests, admit


class WithinLimits(BasePermission):
    """Base of the per-permission classes made by :func:`within_limits`."""

    permission: ClassVar[Permission]

    async def has_permission(
        self, source: Any, info: Info[GraphQLContext, None], **kwargs: Any
    ) -> bool:
        context = info.context
        if context.conn is None:
            raise RuntimeError("a GraphQL context without its connection")
        try:
            await admit(context.conn, context.principal, self.permission)
        except TooManyRequests as refused:
            context.limited.refused += 1
            retry_after = int(refused.headers["Retry-After"])
            context.limited.retry_after = max(context.limited.retry_after, retry_after)
            raise
        context.limited.admitted += 1
        return True


@functools.cache
def within_limits(permission: Permission) -> type[WithinLimits]:
    """The rate-limit class of fields needing ``permission`` (one class per permission,
    made once, as ``auth.requires`` makes its dependencies)."""
    return type(
        f"WithinLimits_{permission.name.lower()}", (WithinLimits,), {"permission": permission}
    )


class RefusedStatus(SchemaExtension):
    """Over HTTP: ``Retry-After`` when a field was refused; 429 when none was admitted."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if not isinstance(context, GraphQLContext):
            yield
            return
        context.limited = LimitedCalls()  # a WebSocket's context serves many operations
        yield
        calls, response = context.limited, context.response
        if calls.refused and response is not None:
            response.headers["Retry-After"] = str(calls.retry_after)
            if not calls.admitted:
                response.status_code = TooManyRequests.status
