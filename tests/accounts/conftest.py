"""Accounts fixtures: the storage fixtures plus a running app and keys to call it with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.kit import storage
from tunedeck.accounts import service
from tunedeck.accounts.models import Account
from tunedeck.app import create_app
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
        async with database.session() as session:
            owner = account or await service.create_account(session, storage.unique())
            created = await service.create_api_key(session, owner.id, "test key", permissions)
        return Caller(owner, created.secret, str(created.row.id))

    return make


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        encryption_keys=storage.TEST_KEYRING.serialize(),
        data_dir=tmp_path,
        public_url="http://127.0.0.1:8000",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
