"""Accounts service on both backends: accounts, keys, overlay tokens, sessions."""

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
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.models import ApiKey, DashboardSession, OverlayToken
from tunedeck.accounts.permissions import Permission, PrincipalKind
from tunedeck.accounts.schemas import ApiKeyCreate, OverlayTokenCreate
from tunedeck.accounts.secrets import hash_secret
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed


async def test_create_and_find_accounts(database: Database) -> None:
    name = unique()
    async with database.session() as session:
        created = await service.create_account(session, name)
    async with database.session() as session:
        assert (await service.account_named(session, name)).id == created.id
        assert name in [a.name for a in await service.list_accounts(session)]
        with pytest.raises(Conflict, match="already exists"):
            await service.create_account(session, name)
        with pytest.raises(NotFound):
            await service.account_named(session, unique())


@pytest.mark.parametrize("name", ["", "has space", "-leading", "x" * 65, "semi;colon"])
async def test_bad_account_names_refused(database: Database, name: str) -> None:
    async with database.session() as session:
        with pytest.raises(ValidationFailed, match="account name"):
            await service.create_account(session, name)


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
    async with database.session() as session:
        account = await service.create_account(session, unique())
        with pytest.raises(ValidationFailed, match=r"unknown permission 'spotify:everything'"):
            await service.create_api_key(
                session, account.id, "k", ["spotify:read", "spotify:everything"]
            )
        # What /v1/me can list can be granted: a key may read now playing and nothing else.
        created = await service.create_api_key(session, account.id, "np", ["overlay:read"])
        assert created.row.permissions == ["overlay:read"]
        with pytest.raises(ValidationFailed, match="at least one"):
            await service.create_api_key(session, account.id, "k", [])


async def test_revoke_key_scoped_by_account(database: Database, make_caller: MakeCaller) -> None:
    alice = await make_caller("admin")
    bob = await make_caller("admin")
    async with database.session() as session:
        with pytest.raises(NotFound):
            await service.revoke_api_key(session, alice.account.id, bob.account.id)
        key = await session.scalar(select(ApiKey).where(ApiKey.account_id == alice.account.id))
        assert key is not None
        with pytest.raises(NotFound):
            await service.revoke_api_key(session, key.id, bob.account.id)
        await service.revoke_api_key(session, key.id, alice.account.id)
    async with database.session() as session:
        with pytest.raises(Unauthorized):
            await service.authenticate(session, alice.key)
        await service.authenticate(session, bob.key)


async def test_overlay_token_principal(database: Database) -> None:
    async with database.session() as session:
        account = await service.create_account(session, unique())
        created = await service.create_overlay_token(session, account.id, "obs")
    async with database.session() as session:
        principal = await service.authenticate(session, created.secret)
        stored = await session.get(OverlayToken, created.row.id)
    assert stored is not None
    assert stored.token_hash == hash_secret(created.secret)
    assert principal.kind is PrincipalKind.OVERLAY
    assert principal.permissions == {Permission.OVERLAY_READ}
    assert principal.key_id is None
    async with database.session() as session:
        await service.revoke_overlay_token(session, created.row.id, account.id)
    async with database.session() as session:
        with pytest.raises(Unauthorized):
            await service.authenticate(session, created.secret)


async def test_sessions_expire_and_die_with_their_key(
    database: Database, make_caller: MakeCaller
) -> None:
    caller = await make_caller("spotify:read")
    async with database.session() as session:
        created, principal = await service.start_session(session, caller.key, timedelta(hours=1))
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

    async with database.session() as session:
        second, _ = await service.start_session(session, caller.key, timedelta(hours=1))
        # A session cannot be traded for another session, nor can an overlay token.
        with pytest.raises(Unauthorized, match="API key"):
            await service.start_session(session, second.secret, timedelta(hours=1))
    async with database.session() as session:
        await service.revoke_api_key(session, principal.credential_id, caller.account.id)
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
    async with database.session() as session:
        overlay = await service.create_overlay_token(session, admin.account.id, "obs")
    async with database.session() as session:
        as_reader = CallContext(await service.authenticate(session, reader.key), session)
        refused: list[Coroutine[Any, Any, object]] = [
            service.list_keys(as_reader),
            service.create_key(as_reader, ApiKeyCreate(label="x", permissions=["admin"])),
            service.revoke_key(as_reader, uuid.UUID(reader.key_id)),
            service.list_tokens(as_reader),
            service.create_token(as_reader, OverlayTokenCreate(), "http://127.0.0.1:8000"),
            service.revoke_token(as_reader, overlay.row.id),
        ]
        for operation in refused:
            with pytest.raises(Forbidden, match="missing permission admin"):
                await operation

        token_principal = await service.authenticate(session, overlay.secret)
        with pytest.raises(Forbidden):
            service.me(token_principal)
        with pytest.raises(Forbidden):
            await service.logout(CallContext(token_principal, session), overlay.secret)

        as_admin = CallContext(await service.authenticate(session, admin.key), session)
        assert [k.id for k in await service.list_keys(as_admin)] == [uuid.UUID(admin.key_id)]
        with pytest.raises(NotFound):  # another account's key does not exist for this one
            await service.revoke_key(as_admin, uuid.UUID(other.key_id))
        created = await service.create_token(as_admin, OverlayTokenCreate(), "https://td.example")
        assert created.overlay_url == f"https://td.example/overlay#token={created.token}"
        assert {t.id for t in await service.list_tokens(as_admin)} == {overlay.row.id, created.id}
    async with database.session() as session:
        await service.authenticate(session, other.key)  # not revoked
        await service.authenticate(session, reader.key)
