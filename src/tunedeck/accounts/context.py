"""What an operation called through a door runs with: who calls, and the unit of work.

The doors build a :class:`CallContext` (REST from the request's principal and session);
the operation checks the permission it needs with :func:`authorize`, the one permission
check, and acts on the caller's own account. The accounts and connections services
take it; the player has its own richer ``PlayerContext`` of the same shape.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.permissions import Permission, Principal, require_permission


@dataclass(frozen=True, slots=True)
class CallContext:
    """One call of an operation: the principal and the door's session (never committed
    by the operation; the door's unit of work commits once)."""

    principal: Principal
    session: AsyncSession

    @property
    def account_id(self) -> uuid.UUID:
        return self.principal.account_id


def authorize(ctx: CallContext, permission: Permission | None) -> uuid.UUID:
    """Check that the caller holds ``permission`` (``None``: any API key or dashboard
    session, no overlay token) and return the account the operation acts on: its own."""
    require_permission(ctx.principal, permission)
    return ctx.principal.account_id
