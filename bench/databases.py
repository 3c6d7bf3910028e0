"""Databases the benchmarks make for themselves and drop after: never the shared ones."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tunedeck.migrations.apply import upgrade_database

POSTGRES_ADMIN_URL = os.environ.get(
    "TUNEDECK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TUNEDECK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new PostgreSQL database migrated to head; dropped (connections forced out) after."""
    name = f"tunedeck_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        await upgrade_database(url)
        yield url
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    """A new SQLite file migrated to head, in a directory removed after."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_database(url)
        yield url
