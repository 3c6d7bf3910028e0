"""What an operation runs with: who calls, and where its units of work come from.

Every operation of a service (accounts, connections, the player, and those to come) takes
a :class:`CallContext`, or a context built on it (``player.context.PlayerContext``). Its
door builds it: REST and GraphQL from the authenticated principal, the command line and
the demo's set-up for the operator (:func:`operator`). The operation checks the
permission it needs with :func:`authorize`, the one permission check, acts on the
caller's own account, and opens its own unit of work around its reads and writes::

    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        ...  # work.session; committed once, when the block ends

No door opens a session for an operation, and no operation commits by itself
(``kit.unit_of_work``). An operation that waits on Spotify opens its unit of work before
or after the wait, never around it.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from tunedeck.accounts.models import Account
from tunedeck.accounts.permissions import (
    GRANTABLE,
    Permission,
    Principal,
    PrincipalKind,
    require_permission,
)
from tunedeck.kit.unit_of_work import UnitOfWork, UnitsOfWork

OPERATOR_LABEL = "operator"
# The operator holds the database itself: no stored credential stands for it.
NO_CREDENTIAL = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class CallContext:
    """One call of an operation: the principal, and the units of work it begins."""

    principal: Principal
    units: UnitsOfWork

    @property
    def account_id(self) -> uuid.UUID:
        return self.principal.account_id

    def begin(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """The operation's unit of work: ``async with ctx.begin() as work: ...``."""
        return self.units.begin()


def authorize(ctx: CallContext, permission: Permission | None) -> uuid.UUID:
    """Check that the caller holds ``permission`` (``None``: any API key or dashboard
    session, no overlay token) and return the account the operation acts on: its own."""
    require_permission(ctx.principal, permission)
    return ctx.principal.account_id


def operator(units: UnitsOfWork, account: Account) -> CallContext:
    """The context of the operator acting for ``account``: whoever runs the command line
    or the demo's set-up holds the database and its keys, so every permission is theirs
    (on that account, as a principal's are on its own)."""
    principal = Principal(
        kind=PrincipalKind.OPERATOR,
        account_id=account.id,
        account_name=account.name,
        label=OPERATOR_LABEL,
        permissions=frozenset(GRANTABLE),
        credential_id=NO_CREDENTIAL,
    )
    return CallContext(principal, units)
