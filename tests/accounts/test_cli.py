"""Operator commands in-process (Typer's CliRunner), on the database the server would use."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.kit.storage import unique
from tests.support import accounts
from tunedeck.accounts.models import ApiKey
from tunedeck.accounts.secrets import hash_secret
from tunedeck.cli import app
from tunedeck.config import get_settings
from tunedeck.connections.models import AppCredential
from tunedeck.kit.crypto import Keyring, key_file_path, read_key_file, write_key_file
from tunedeck.kit.db import Database, encryption_context
from tunedeck.kit.rotation import values_by_key
from tunedeck.migrations.apply import head_revision, upgrade_database

runner = CliRunner()


@pytest.fixture
def env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("TUNEDECK_DATABASE_URL", database_url)
    monkeypatch.setenv("TUNEDECK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TUNEDECK_ENCRYPTION_KEYS", raising=False)
    get_settings.cache_clear()
    yield {"url": database_url}
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def stored_keys(url: str, key_id: str) -> ApiKey:
    async def fetch() -> ApiKey:
        db = Database(url)
        try:
            async with db.session() as session:
                key = await session.get(ApiKey, uuid.UUID(key_id))
                assert key is not None
                return key
        finally:
            await db.dispose()

    return asyncio.run(fetch())


def test_migrate(env: dict[str, str]) -> None:
    code, out, _ = run("migrate")
    assert code == 0
    assert f"revision {head_revision()}" in out


def test_account_and_key_lifecycle(env: dict[str, str]) -> None:
    name = unique()
    code, out, _ = run("account", "create", name)
    assert (code, f"created account {name}" in out) == (0, True)
    code, _, err = run("account", "create", name)
    assert code == 1
    assert "already exists" in err
    code, out, _ = run("account", "list")
    assert name in out

    code, out, err = run(
        "key", "create", "--account", name, "--label", "chat bot",
        "--permissions", "spotify:read,spotify:queue",
    )  # fmt: skip
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("tdk_")
    assert "shown once" in err
    key_id = err.split("key id: ")[1].split()[0]
    stored = stored_keys(env["url"], key_id)
    assert stored.key_hash == hash_secret(secret)
    assert stored.permissions == ["spotify:queue", "spotify:read"]

    code, out, _ = run("key", "list", "--account", name)
    assert code == 0
    assert key_id in out
    assert "chat bot" in out
    assert secret not in out  # only the prefix is ever shown again
    assert stored.prefix in out

    code, out, _ = run("key", "revoke", key_id)
    assert code == 0
    assert stored_keys(env["url"], key_id).revoked_at is not None
    assert "revoked" in run("key", "list", "--account", name)[1]


@pytest.mark.parametrize(
    ("permissions", "message"),
    [
        ("spotify:read,spotify:everything", "unknown permission 'spotify:everything'"),
        ("SPOTIFY:READ", "unknown permission 'SPOTIFY:READ'"),
        ("", "at least one permission"),
    ],
)
def test_bad_permissions_refused(env: dict[str, str], permissions: str, message: str) -> None:
    name = unique()
    assert run("account", "create", name)[0] == 0
    code, out, err = run(
        "key", "create", "--account", name, "--label", "x", "--permissions", permissions
    )
    assert code == 1
    assert message in err
    assert "tdk_" not in out + err
    assert run("key", "list", "--account", name)[1].strip() == ""


def test_errors_are_messages_not_tracebacks(env: dict[str, str]) -> None:
    code, _, err = run(
        "key", "create", "--account", unique(), "--label", "x", "--permissions", "admin"
    )
    assert (code, "no account named" in err) == (1, True)
    code, _, err = run("key", "revoke", "not-an-id")
    assert (code, "is not an id" in err) == (2, True)
    code, _, err = run("key", "revoke", str(uuid.uuid4()))
    assert (code, "no API key" in err) == (1, True)
    code, _, err = run("account", "create", "bad name")
    assert code == 1
    assert "account name" in err


def test_overlay_tokens(env: dict[str, str]) -> None:
    name = unique()
    run("account", "create", name)
    code, out, err = run("overlay-token", "create", "--account", name, "--label", "obs")
    assert code == 0, err
    assert "/overlay#token=tdo_" in out
    token_id = err.split("overlay token id: ")[1].split()[0]
    listed = run("overlay-token", "list", "--account", name)[1]
    assert token_id in listed
    assert "tdo_" in listed
    assert out.split("token=")[1].strip() not in listed
    assert run("overlay-token", "revoke", token_id)[0] == 0
    assert "revoked" in run("overlay-token", "list", "--account", name)[1]


def test_crypto_new_key_is_a_valid_entry(env: dict[str, str]) -> None:
    code, out, _ = run("crypto", "new-key")
    assert code == 0
    assert Keyring.parse(out.strip()).primary_id == out.split(":")[0]


def _seed_credentials(url: str, keyring: Keyring, count: int) -> None:
    async def seed() -> None:
        await upgrade_database(url)
        db = Database(url)
        try:
            for _ in range(count):
                account = await accounts.create_account(db, unique())

                def enc(attr: object, value: str, account_id: uuid.UUID = account.id) -> str:
                    return keyring.encrypt(value, encryption_context(attr, account_id))  # type: ignore[arg-type]

                async with db.session() as session:
                    session.add(
                        AppCredential(
                            account_id=account.id,
                            client_id=enc(AppCredential.client_id, "id"),
                            client_secret=enc(AppCredential.client_secret, "secret"),
                        )
                    )
        finally:
            await db.dispose()

    asyncio.run(seed())


def _counts(url: str) -> Counter[str]:
    async def count() -> Counter[str]:
        db = Database(url)
        try:
            return await values_by_key(db)
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_crypto_rotate_with_key_file(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEDECK_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("TUNEDECK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TUNEDECK_ENCRYPTION_KEYS", raising=False)
    get_settings.cache_clear()
    try:
        old = Keyring.generate()
        write_key_file(key_file_path(tmp_path), old)
        _seed_credentials(fresh_database_url, old, 3)
        assert _counts(fresh_database_url) == Counter({old.primary_id: 6})

        code, out, err = run("crypto", "rotate", "--prune")
        assert code == 0, err
        new = read_key_file(key_file_path(tmp_path))
        assert new.primary_id != old.primary_id
        assert new.key_ids == (new.primary_id,)  # pruned: the old key is gone
        assert _counts(fresh_database_url) == Counter({new.primary_id: 6})
        assert "re-encrypted 6 values" in out
        status = run("crypto", "status")[1]
        assert f"{new.primary_id}: 6 values" in status
    finally:
        get_settings.cache_clear()


def test_crypto_rotate_with_environment_keys(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Keyring.generate()
    monkeypatch.setenv("TUNEDECK_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("TUNEDECK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TUNEDECK_ENCRYPTION_KEYS", old.serialize())
    get_settings.cache_clear()
    try:
        _seed_credentials(fresh_database_url, old, 2)
        chosen = Keyring.generate()
        code, out, err = run("crypto", "rotate", "--key", chosen.serialize())
        assert code == 0, err
        assert _counts(fresh_database_url) == Counter({chosen.primary_id: 4})
        printed = out.strip().splitlines()[-1]
        assert printed.startswith("TUNEDECK_ENCRYPTION_KEYS=")
        value = Keyring.parse(printed.split("=", 1)[1])
        # New key first, the old one kept for servers still writing with it.
        assert value.key_ids == (chosen.primary_id, old.primary_id)
        assert not key_file_path(tmp_path).exists()

        monkeypatch.setenv("TUNEDECK_ENCRYPTION_KEYS", "not-a-keyring")
        get_settings.cache_clear()
        code, _, err = run("crypto", "rotate")
        assert code == 1
        assert "TUNEDECK_ENCRYPTION_KEYS" in err
    finally:
        get_settings.cache_clear()
