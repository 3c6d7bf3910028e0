"""Secrets at rest on both backends: round trip, context binding, no plaintext, rotation."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from tests.kit.storage import unique
from tunedeck.accounts.models import Account
from tunedeck.connections.models import AppCredential, ChannelConnection, OAuthState
from tunedeck.kit.crypto import DecryptionError, Keyring
from tunedeck.kit.db import Database, encryption_context, utcnow
from tunedeck.kit.rotation import encrypted_columns, reencrypt_all, values_by_key
from tunedeck.migrations import import_models
from tunedeck.migrations.apply import upgrade_database

SECRETS = {
    "client_id": "client-id-PLAINTEXT",
    "client_secret": "client-secret-PLAINTEXT",
    "access_token": "access-token-PLAINTEXT",
    "refresh_token": "refresh-token-PLAINTEXT",
    "code_verifier": "code-verifier-PLAINTEXT",
}


async def _account_with_secrets(db: Database, keyring: Keyring, tag: str = "") -> uuid.UUID:
    """An account with app credentials, a connection and an OAuth state, all encrypted."""
    account = Account(name=unique())

    def enc(attr: object, name: str) -> str:
        return keyring.encrypt(SECRETS[name] + tag, encryption_context(attr, account.id))  # type: ignore[arg-type]

    async with db.session() as session:
        session.add(account)
        await session.flush()
        session.add_all(
            [
                AppCredential(
                    account_id=account.id,
                    client_id=enc(AppCredential.client_id, "client_id"),
                    client_secret=enc(AppCredential.client_secret, "client_secret"),
                ),
                ChannelConnection(
                    account_id=account.id,
                    access_token=enc(ChannelConnection.access_token, "access_token"),
                    refresh_token=enc(ChannelConnection.refresh_token, "refresh_token"),
                    expires_at=utcnow() + timedelta(hours=1),
                    scopes="user-read-playback-state",
                    platform_channel_id="spotify-user",
                ),
                OAuthState(
                    state=unique("state"),
                    account_id=account.id,
                    code_verifier=enc(OAuthState.code_verifier, "code_verifier"),
                    redirect_uri="http://127.0.0.1:8000/callback",
                    expires_at=utcnow() + timedelta(minutes=10),
                ),
            ]
        )
    return account.id


async def _read_all(db: Database, keyring: Keyring, account_id: uuid.UUID) -> dict[str, str]:
    async with db.session() as session:
        cred = await session.scalar(
            select(AppCredential).where(AppCredential.account_id == account_id)
        )
        conn = await session.scalar(
            select(ChannelConnection).where(ChannelConnection.account_id == account_id)
        )
        state = await session.scalar(select(OAuthState).where(OAuthState.account_id == account_id))
    assert cred is not None
    assert conn is not None
    assert state is not None
    assert conn.refresh_token is not None

    def dec(attr: object, value: str) -> str:
        return keyring.decrypt(value, encryption_context(attr, account_id))  # type: ignore[arg-type]

    return {
        "client_id": dec(AppCredential.client_id, cred.client_id),
        "client_secret": dec(AppCredential.client_secret, cred.client_secret),
        "access_token": dec(ChannelConnection.access_token, conn.access_token),
        "refresh_token": dec(ChannelConnection.refresh_token, conn.refresh_token),
        "code_verifier": dec(OAuthState.code_verifier, state.code_verifier),
    }


async def test_round_trip_and_no_plaintext_in_the_database(
    database: Database, keyring: Keyring
) -> None:
    account_id = await _account_with_secrets(database, keyring)
    assert await _read_all(database, keyring, account_id) == SECRETS
    async with database.session() as session:
        dump: list[str] = []
        for table in ("app_credentials", "channel_connections", "oauth_states"):
            rows = await session.execute(text(f"SELECT * FROM {table}"))
            dump.extend(str(tuple(r)) for r in rows)
    dumped = "\n".join(dump)
    assert "v1:" in dumped
    for value in SECRETS.values():
        assert value not in dumped


def test_every_encrypted_column_is_registered() -> None:
    import_models()  # as the crypto commands do: rotation sees the tables imported
    found = {f"{t.name}.{c.name}" for t, cols in encrypted_columns() for c in cols}
    assert found == {
        "app_credentials.client_id",
        "app_credentials.client_secret",
        "channel_connections.access_token",
        "channel_connections.refresh_token",
        "oauth_states.code_verifier",
    }


def test_context_only_for_encrypted_columns() -> None:
    with pytest.raises(ValueError, match="not an encrypted column"):
        encryption_context(ChannelConnection.scopes, uuid.uuid4())


async def test_ciphertext_swapped_between_accounts_refused(
    database: Database, keyring: Keyring
) -> None:
    alice = await _account_with_secrets(database, keyring, "-alice")
    bob = await _account_with_secrets(database, keyring, "-bob")
    async with database.session() as session:
        alices = await session.scalar(
            select(AppCredential.client_secret).where(AppCredential.account_id == alice)
        )
        await session.execute(
            update(AppCredential)
            .where(AppCredential.account_id == bob)
            .values(client_secret=alices)
        )
    with pytest.raises(DecryptionError):
        await _read_all(database, keyring, bob)
    assert (await _read_all(database, keyring, alice))[
        "client_secret"
    ] == "client-secret-PLAINTEXT-alice"


async def test_ciphertext_swapped_between_columns_refused(
    database: Database, keyring: Keyring
) -> None:
    account_id = await _account_with_secrets(database, keyring)
    async with database.session() as session:
        # The refresh token's ciphertext put in the access token's column of the same row.
        await session.execute(
            update(ChannelConnection)
            .where(ChannelConnection.account_id == account_id)
            .values(access_token=ChannelConnection.refresh_token)
        )
    with pytest.raises(DecryptionError, match=r"channel_connections\.access_token"):
        await _read_all(database, keyring, account_id)


async def test_wrong_key_refused(database: Database, keyring: Keyring) -> None:
    account_id = await _account_with_secrets(database, keyring)
    with pytest.raises(DecryptionError, match="not in the keyring"):
        await _read_all(database, Keyring.generate(), account_id)


async def test_rotation_leaves_no_value_on_the_old_key(fresh_database_url: str) -> None:
    await upgrade_database(fresh_database_url)
    db = Database(fresh_database_url)
    try:
        old = Keyring.generate()
        accounts = [await _account_with_secrets(db, old, f"-{i}") for i in range(3)]
        async with db.session() as session:  # a connection without a refresh token (NULL)
            await session.execute(
                update(ChannelConnection)
                .where(ChannelConnection.account_id == accounts[0])
                .values(refresh_token=None)
            )
        assert await values_by_key(db) == Counter({old.primary_id: 14})

        rotated = old.with_primary(Keyring.generate())
        report = await reencrypt_all(db, rotated)
        assert report.total == 14
        assert await values_by_key(db) == Counter({rotated.primary_id: 14})

        # The old key can go: everything reads with the new key alone.
        new_only = rotated.without([old.primary_id])
        for i, account_id in enumerate(accounts[1:], start=1):
            assert await _read_all(db, new_only, account_id) == {
                k: f"{v}-{i}" for k, v in SECRETS.items()
            }
        assert (await reencrypt_all(db, rotated)).total == 0
    finally:
        await db.dispose()


async def test_rotation_stops_on_a_value_no_key_reads(fresh_database_url: str) -> None:
    await upgrade_database(fresh_database_url)
    db = Database(fresh_database_url)
    try:
        await _account_with_secrets(db, Keyring.generate())
        with pytest.raises(DecryptionError, match="not in the keyring"):
            await reencrypt_all(db, Keyring.generate())
    finally:
        await db.dispose()


def test_model_reprs_show_no_secrets() -> None:
    cred = AppCredential(id=uuid.uuid4(), client_id="cid-value", client_secret="secret-value")
    conn = ChannelConnection(access_token="access-value", refresh_token="refresh-value")
    state = OAuthState(state="state-value", code_verifier="verifier-value")
    for row, secrets in [
        (cred, ["cid-value", "secret-value"]),
        (conn, ["access-value", "refresh-value"]),
        (state, ["verifier-value"]),
    ]:
        for secret in secrets:
            assert secret not in repr(row)
            assert secret not in str(row)
    assert repr(cred) == f"AppCredential(id={cred.id!r})"
