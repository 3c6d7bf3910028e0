"""Accounts, keys and overlay tokens for tests, made the way the operator makes them: the
operations the command line calls (each in its own unit of work), on the test's database."""

from __future__ import annotations

import uuid

from tunedeck.accounts import service
from tunedeck.accounts.context import CallContext, operator
from tunedeck.accounts.models import Account
from tunedeck.accounts.schemas import ApiKeyCreated, OverlayTokenCreated
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork


async def acting_for(db: Database, account: Account | uuid.UUID) -> CallContext:
    """The operator acting for ``account`` (an id: the account is read first)."""
    units = UnitsOfWork(db)
    if isinstance(account, uuid.UUID):
        async with db.session() as session:
            found = await session.get(Account, account)
        assert found is not None, f"no account {account}"
        account = found
    return operator(units, account)


async def create_account(db: Database, name: str) -> Account:
    return await service.create_account(UnitsOfWork(db), name)


async def create_key(
    db: Database, account: Account | uuid.UUID, label: str, permissions: list[str]
) -> ApiKeyCreated:
    return await service.create_key(await acting_for(db, account), label, permissions)


async def create_overlay_token(
    db: Database, account: Account | uuid.UUID, label: str
) -> OverlayTokenCreated:
    ctx = await acting_for(db, account)
    return await service.create_token(ctx, label, "http://127.0.0.1:8000")


async def revoke_key(db: Database, key_id: uuid.UUID) -> None:
    """Revoke a key as ``tunedeck key revoke`` does: in the database alone, no bus."""
    units = UnitsOfWork(db)
    await service.revoke_key(operator(units, await service.key_owner(units, key_id)), key_id)


async def revoke_overlay_token(db: Database, token_id: uuid.UUID) -> None:
    """Revoke an overlay token as ``tunedeck overlay-token revoke`` does."""
    units = UnitsOfWork(db)
    owner = await service.token_owner(units, token_id)
    await service.revoke_token(operator(units, owner), token_id)
