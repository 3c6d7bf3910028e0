"""Accounts service on both backends: accounts, keys, overlay tokens, sessions.

Every operation opens its own unit of work from its context: here the operator's
(``accounts.context.operator``, as the command line and the demo) or a caller's, built
from an authenticated principal as the doors build it.
"""

from __future__ import annotations

import uuid
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.accounts.conftest import MakeCaller
from tests.kit.storage import unique
from tunedeck.accounts import service
from tunedeck.accounts.context import CallContext, operator
from tunedeck.accounts.models import ApiKey, DashboardSession, OverlayToken
from tunedeck.accounts.permissions import Permission, PrincipalKind
from tunedeck.accounts.secrets import hash_secret
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from tunedeck.kit.unit_of_work import UnitsOfWork

PUBLIC_URL = "http://127.0.0.1:8000"


async def as_caller(database: Database, secret: str) -> CallContext:
    """The context a door builds for ``secret``: authenticated in a unit of its own."""
    async with database.session() as session:
        principal = await service.authenticate(session, secret)
    return CallContext(principal, UnitsOfWork(database))


async def test_create_and_find_accounts(database: Database) -> None:
    units = UnitsOfWork(database)
    name = unique()
    created = await service.create_account(units, name)
    assert (await service.account_named(units, name)).id == created.id
    assert name in [a.name for a in await service.list_accounts(units)]
    with pytest.raises(Conflict, match="already exists"):
        await service.create_account(units, name)
    with pytest.raises(NotFound):
        await service.account_named(units, unique())


@pytest.mark.parametrize("name", ["", "has space", "-leading", "x" * 65, "semi;colon"])
async def test_bad_account_names_refused(database: Database, name: str) -> None:
    with pytest.raises(ValidationFailed, match="account name"):
        await service.create_account(UnitsOfWork(database), name)


async def test_key_stored_as_hash_only(database: Database, make_caller: MakeCaller) -> None:
    caller = await make_caller("spotify:read", "spotify:queue")
    async with database.session() as session:
        key = await session.scalar(select(ApiKey).where(ApiKey.account_id == caller.account.id))
    assert key is not None
    assert key.key_hash == hash_secret(caller.key)
    assert caller.key not in (key.key_hash, key.prefix, key.label)
    assert caller.key.startswith(key.prefix)
    assert len(key.prefix) < len(caller.key) // 3
    assert key.permissions == ["spotify:queue", "spotify:read"]


async def test_authenticate_key(database: Database, make_caller: MakeCaller) -> None:
    caller = await make_caller("spotify:read", "admin")
    async with database.session() as session:
        principal = await service.authenticate(session, caller.key)
    assert principal.kind is PrincipalKind.API_KEY
    assert principal.account_id == caller.account.id
    assert principal.account_name == caller.account.name
    assert principal.label == "test key"
    # spotify:read implies reading the overlay.
    assert principal.permissions == {
        Permission.SPOTIFY_READ,
        Permission.ADMIN,
        Permission.OVERLAY_READ,
    }
    async with database.session() as session:
        key = await session.get(ApiKey, principal.credential_id)
        assert key is not None
        assert key.last_used_at is not None


@pytest.mark.parametrize("secret", ["", "tdk_", "tdk_wrong", "tdo_wrong", "tds_wrong", "garbage"])
async def test_unknown_secrets_refused(database: Database, secret: str) -> None:
    async with database.session() as session:
        with pytest.raises(Unauthorized):
            await service.authenticate(session, secret)


async def test_unknown_permissions_refused(database: Database) -> None:
    units = UnitsOfWork(database)
    ctx = operator(units, await service.create_account(units, unique()))
    with pytest.raises(ValidationFailed, match=r"unknown permission 'spotify:everything'"):
        await service.create_key(ctx, "k", ["spotify:read", "spotify:everything"])
    # What /v1/me can list can be granted: a key may read now playing and nothing else.
    created = await service.create_key(ctx, "np", ["overlay:read"])
    assert created.permissions == ["overlay:read"]
    with pytest.raises(ValidationFailed, match="at least one"):
        await service.create_key(ctx, "k", [])
    assert [k.label for k in await service.list_keys(ctx)] == ["np"]


async def test_revoke_key_scoped_by_account(database: Database, make_caller: MakeCaller) -> None:
    alice = await make_caller("admin")
    bob = await make_caller("admin")
    as_bob = await as_caller(database, bob.key)
    with pytest.raises(NotFound):
        await service.revoke_key(as_bob, alice.account.id)
    with pytest.raises(NotFound):
        await service.revoke_key(as_bob, uuid.UUID(alice.key_id))
    await service.revoke_key(await as_caller(database, alice.key), uuid.UUID(alice.key_id))
    async with database.session() as session:
        with pytest.raises(Unauthorized):
            await service.authenticate(session, alice.key)
        await service.authenticate(session, bob.key)


async def test_the_operator_finds_what_it_names_by_id(database: Database) -> None:
    """The command line revokes by id alone: the operations find the account first."""
    units = UnitsOfWork(database)
    account = await service.create_account(units, unique())
    ctx = operator(units, account)
    key = await service.create_key(ctx, "bot", ["spotify:read"])
    token = await service.create_token(ctx, "obs", PUBLIC_URL)
    assert (await service.key_owner(units, key.id)).id == account.id
    assert (await service.token_owner(units, token.id)).id == account.id
    with pytest.raises(NotFound, match="no API key"):
        await service.key_owner(units, token.id)
    with pytest.raises(NotFound, match="no overlay token"):
        await service.token_owner(units, key.id)
    # The operator acts with every permission, and as no key: nothing it does is a key's.
    assert ctx.principal.kind is PrincipalKind.OPERATOR
    assert ctx.principal.key_id is None
    assert service.me(ctx.principal).account.id == account.id


async def test_overlay_token_principal(database: Database) -> None:
    units = UnitsOfWork(database)
    account = await service.create_account(units, unique())
    ctx = operator(units, account)
    created = await service.create_token(ctx, "obs", PUBLIC_URL)
    async with database.session() as session:
        principal = await service.authenticate(session, created.token)
        stored = await session.get(OverlayToken, created.id)
    assert stored is not None
    assert stored.token_hash == hash_secret(created.token)
    assert principal.kind is PrincipalKind.OVERLAY
    assert principal.permissions == {Permission.OVERLAY_READ}
    assert principal.key_id is None
    await service.revoke_token(ctx, created.id)
    async with database.session() as session:
        with pytest.raises(Unauthorized):
            await service.authenticate(session, created.token)


async def test_sessions_expire_and_die_with_their_key(
    database: Database, make_caller: MakeCaller
) -> None:
    units = UnitsOfWork(database)
    caller = await make_caller("spotify:read", "admin")
    created, principal = await service.start_session(units, caller.key, timedelta(hours=1))
    assert created.row.token_hash == hash_secret(created.secret)
    async with database.session() as session:
        as_session = await service.authenticate(session, created.secret)
    assert as_session.kind is PrincipalKind.SESSION
    assert as_session.credential_id == principal.credential_id

    async with database.session() as session:  # expired
        await session.execute(
            update(DashboardSession)
            .where(DashboardSession.id == created.row.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    async with database.session() as session:
        with pytest.raises(Unauthorized):
            await service.authenticate(session, created.secret)

    second, _ = await service.start_session(units, caller.key, timedelta(hours=1))
    # A session cannot be traded for another session, nor can an overlay token.
    with pytest.raises(Unauthorized, match="API key"):
        await service.start_session(units, second.secret, timedelta(hours=1))
    await service.revoke_key(CallContext(principal, units), principal.credential_id)
    async with database.session() as session:
        with pytest.raises(Unauthorized):
            await service.authenticate(session, second.secret)
        left = await session.scalars(
            select(DashboardSession).where(DashboardSession.api_key_id == principal.credential_id)
        )
        assert left.all() == []


async def test_caller_operations_check_the_permission_themselves(
    database: Database, make_caller: MakeCaller
) -> None:
    """Whatever door calls them, the operations of a caller refuse what the principal may
    not do, and act on the principal's own account only."""
    reader = await make_caller("spotify:read")
    admin = await make_caller("admin")
    other = await make_caller("admin")
    overlay = await service.create_token(
        operator(UnitsOfWork(database), admin.account), "obs", PUBLIC_URL
    )
    as_reader = await as_caller(database, reader.key)
    refused: list[Coroutine[Any, Any, object]] = [
        service.list_keys(as_reader),
        service.create_key(as_reader, "x", ["admin"]),
        service.revoke_key(as_reader, uuid.UUID(reader.key_id)),
        service.list_tokens(as_reader),
        service.create_token(as_reader, "overlay", PUBLIC_URL),
        service.revoke_token(as_reader, overlay.id),
    ]
    for operation in refused:
        with pytest.raises(Forbidden, match="missing permission admin"):
            await operation

    as_token = await as_caller(database, overlay.token)
    with pytest.raises(Forbidden):
        service.me(as_token.principal)
    with pytest.raises(Forbidden):
        await service.logout(as_token, overlay.token)

    as_admin = await as_caller(database, admin.key)
    assert [k.id for k in await service.list_keys(as_admin)] == [uuid.UUID(admin.key_id)]
    with pytest.raises(NotFound):  # another account's key does not exist for this one
        await service.revoke_key(as_admin, uuid.UUID(other.key_id))
    created = await service.create_token(as_admin, "", "https://td.example")
    assert created.label == "overlay"
    assert created.overlay_url == f"https://td.example/overlay#token={created.token}"
    assert {t.id for t in await service.list_tokens(as_admin)} == {overlay.id, created.id}
    async with database.session() as session:
        await service.authenticate(session, other.key)  # not revoked
        await service.authenticate(session, reader.key)
