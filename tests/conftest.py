"""Fixtures shared by every test package: real services, fresh per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import services


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (plain postgresql:// URL), dropped after."""
    url = services.create_database()
    try:
        yield url
    finally:
        services.drop_database(url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis; tests namespace their keys and channels."""
    return services.require_redis()
