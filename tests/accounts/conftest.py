"""Accounts fixtures: the storage fixtures plus a running app and keys to call it with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kit import storage
from tests.support import accounts
from tests.support import app as app_fixtures
from tests.support.app import app_settings
from tunedeck.accounts.models import Account
from tunedeck.config import Settings
from tunedeck.kit.db import Database

# The storage fixtures (SQLite and PostgreSQL), shared with tests/kit.
database_url = storage.database_url
database = storage.database
fresh_database_url = storage.fresh_database_url
keyring = storage.keyring


@dataclass
class Caller:
    """An account and one API key of it (the plaintext, as the user was shown it)."""

    account: Account
    key: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


MakeCaller = Callable[..., Awaitable[Caller]]


@pytest.fixture
def make_caller(database: Database) -> MakeCaller:
    async def make(*permissions: str, account: Account | None = None) -> Caller:
        owner = account or await accounts.create_account(database, storage.unique())
        created = await accounts.create_key(database, owner, "test key", list(permissions))
        return Caller(owner, created.key, str(created.id))

    return make


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return app_settings(database_url, tmp_path, public_url="http://127.0.0.1:8000")


app = app_fixtures.app
client = app_fixtures.client
