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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``postgres_only`` (several processes sharing one database and Redis)
    is not collected for the SQLite backend at all, rather than collected and skipped;
    one marked ``sqlite_only`` (SQLite's own behaviour) not for PostgreSQL."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec is not None else None
        if (item.get_closest_marker("postgres_only") and backend == "sqlite") or (
            item.get_closest_marker("sqlite_only") and backend == "postgres"
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
