"""TuneDeck itself in tests: settings on the test storage, the app in the test's loop, and
an HTTP client to it.

Expose the fixtures in a package's conftest.py, next to its own ``settings`` fixture
(a package with its own ``app`` takes ``client`` alone)::

    from tests.support import app as app_fixtures

    app = app_fixtures.app
    client = app_fixtures.client
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.kit import storage
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.deps import attached
from tunedeck.runtime import Runtime, app_runtime


def app_settings(
    database_url: str, data_dir: Path, *, sim: Sim | None = None, **fields: Any
) -> Settings:
    """Settings on ``database_url`` with the test keyring; Spotify is ``sim`` if given."""
    if sim is not None:
        fields = {"spotify_api_url": f"{sim.base}/v1", "spotify_accounts_url": sim.base, **fields}
    return Settings(
        database_url=database_url,
        encryption_keys=storage.TEST_KEYRING.serialize(),
        data_dir=data_dir,
        **fields,
    )


LOOPBACK_CLIENT = ("127.0.0.1", 123)
OUTSIDE_CLIENT = ("203.0.113.7", 40000)  # TEST-NET-3: a caller on another machine
# Where an in-loop client calls the app: the default public URL, a name the app answers
# as (kit.hosts); the ASGI scope's ``server`` says it listens on that port.
ASGI_BASE_URL = "http://127.0.0.1:8000"


def asgi_client(
    app: FastAPI, *, client: tuple[str, int] = LOOPBACK_CLIENT, **kwargs: Any
) -> httpx.AsyncClient:
    """An HTTP client calling ``app`` in this loop; app errors come back as 500 answers.
    ``client`` is the peer address the app sees (loopback unless told otherwise)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)
    kwargs.setdefault("base_url", ASGI_BASE_URL)
    return httpx.AsyncClient(transport=transport, **kwargs)


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


@pytest.fixture
def bus_url(database_url: str, request: pytest.FixtureRequest) -> str | None:
    """The shared Redis alongside PostgreSQL; no Redis (in-process bus) alongside SQLite."""
    return str(request.getfixturevalue("redis_url")) if is_postgres(database_url) else None


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as client:
        yield client


@contextmanager
def replaced(app: FastAPI, **pieces: Any) -> Iterator[Runtime]:
    """The app's runtime with ``pieces`` in place of its own, for the block (a test's
    clock, a database that is down): the runtime is frozen, so this is a copy."""
    changed = dataclasses.replace(app_runtime(app), **pieces)
    with attached(app, changed):
        yield changed
