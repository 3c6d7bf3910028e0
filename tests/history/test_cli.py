"""``tunedeck stream start | stop | list`` in-process (Typer's CliRunner), on the database
the server would use, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.kit.storage import unique
from tests.support import accounts
from tunedeck.accounts.models import Account
from tunedeck.cli import app
from tunedeck.config import get_settings
from tunedeck.history.models import Stream
from tunedeck.kit.db import Database

runner = CliRunner()


@pytest.fixture
def account_name(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A new account's name, the command line pointed at the test database."""
    monkeypatch.setenv("TUNEDECK_DATABASE_URL", database_url)
    monkeypatch.setenv("TUNEDECK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TUNEDECK_ENCRYPTION_KEYS", raising=False)
    get_settings.cache_clear()
    name = unique()

    async def create() -> None:
        db = Database(database_url)
        try:
            await accounts.create_account(db, name)
        finally:
            await db.dispose()

    asyncio.run(create())
    yield name
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def streams_of(database_url: str, name: str) -> list[Stream]:
    async def fetch() -> list[Stream]:
        db = Database(database_url)
        try:
            async with db.session() as session:
                found = await session.scalars(
                    select(Stream)
                    .join(Account, Account.id == Stream.account_id)
                    .where(Account.name == name)
                    .order_by(Stream.started_at)
                )
                return list(found)
        finally:
            await db.dispose()

    return asyncio.run(fetch())


def test_start_list_stop(account_name: str, database_url: str) -> None:
    code, out, _ = run("stream", "start", "--account", account_name, "--title", "Fri | 🎧 night")
    assert code == 0, out
    started = uuid.UUID(out.strip().removeprefix("started stream "))
    [stored] = streams_of(database_url, account_name)
    assert (stored.id, stored.title, stored.stopped_at) == (started, "Fri | 🎧 night", None)
    assert stored.started_by == "operator"

    # One live stream per account: a second start is refused, saying why.
    code, out, err = run("stream", "start", "--account", account_name)
    assert code != 0
    assert "live already" in out + err
    assert len(streams_of(database_url, account_name)) == 1

    code, out, _ = run("stream", "list", "--account", account_name)
    assert code == 0
    [line] = out.splitlines()
    assert line.startswith(str(started))
    assert "live" in line
    assert "0 plays" in line
    assert line.endswith("Fri | 🎧 night")

    code, out, _ = run("stream", "stop", "--account", account_name)
    assert (code, out.strip()) == (0, f"stopped stream {started}")
    [stopped] = streams_of(database_url, account_name)
    assert stopped.stopped_at is not None
    assert stopped.stopped_by == "operator"
    code, out, _ = run("stream", "list", "--account", account_name)
    assert "ended" in out

    # Nothing live any more: stop says so and fails.
    code, out, err = run("stream", "stop", "--account", account_name)
    assert code != 0
    assert "no stream is live" in out + err


def test_an_unknown_account_is_refused(account_name: str) -> None:
    for command in ("start", "stop", "list"):
        code, out, err = run("stream", command, "--account", f"{account_name}-missing")
        assert code != 0, command
        assert "account" in (out + err).lower(), command
