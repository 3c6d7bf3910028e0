"""Storage fixtures for any test package: the same tests on SQLite and on PostgreSQL.

Expose the fixtures in a package's conftest.py::

    from tests.kit import storage

    database_url = storage.database_url
    database = storage.database

``database`` is one migrated database per backend for the whole run (tests isolate
themselves with unique names); ``fresh_database_url`` is an empty, unmigrated database
for a test that needs the whole database to itself (migrations, key rotation).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support import services
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database

BACKENDS = ["sqlite", "postgres"]
# One keyring for every row the tests write into the shared databases.
TEST_KEYRING = Keyring.generate()


def unique(prefix: str = "acct") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return TEST_KEYRING


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A plain URL of the backend under test, migrated to head."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'tunedeck.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    asyncio.run(upgrade_database(url))
    return url


def private_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[str]:
    """A migrated database of ``request.param``'s backend for one test package alone
    (``name`` its SQLite file's), dropped after: the body of such a package's
    ``database_url`` fixture (``yield from``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}"
        asyncio.run(upgrade_database(url))
        yield url
        return
    request.getfixturevalue("postgres_url")  # the shared fixture decides skip / fail
    url = services.create_database()
    try:
        asyncio.run(upgrade_database(url))
        yield url
    finally:
        services.drop_database(url)


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
def fresh_database_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database on the same backend as ``database_url``; dropped after the test."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'fresh.db'}"
        return
    url = services.create_database()
    try:
        yield url
    finally:
        services.drop_database(url)
