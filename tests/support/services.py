"""Access to the machine's PostgreSQL and Redis: required under CI=true, skipped otherwise."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "TUNEDECK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TUNEDECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(what: str, why: str) -> None:
    """Fail under CI (a missing service is a broken machine), skip on a laptop."""
    message = f"{what} is not reachable: {why}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


async def _admin_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database() -> str:
    """Create a fresh, uniquely named database; return its plain postgresql:// URL."""
    name = f"tunedeck_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable("PostgreSQL", repr(exc))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def require_redis() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:
        unavailable("Redis", repr(exc))
    return REDIS_URL
