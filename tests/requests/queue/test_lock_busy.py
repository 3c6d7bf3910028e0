"""The queue lock on SQLite outlasts another writer holding the database longer than the
busy timeout: the lock's statement is asked for again (nothing was written before it),
so a raid's submissions wait their turn instead of failing."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.support.accounts import create_account
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database
from tunedeck.requests import repository


async def test_the_queue_lock_is_asked_again_when_sqlite_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short waits, many of them: the blocker surely lets go while the lock is still asked.
    monkeypatch.setattr(repository, "SQLITE_LOCK_ATTEMPTS", 1000)
    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    await upgrade_database(url)
    db = Database(url)
    busy_errors = threading.Event()

    def on_error(context: Any) -> None:
        if "database is locked" in str(context.original_exception):
            busy_errors.set()

    event.listen(db.engine.sync_engine, "handle_error", on_error)
    try:
        account = await create_account(db, "busy")
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            async with db.session() as session:
                await session.execute(text("PRAGMA busy_timeout=20"))
                locking = asyncio.create_task(repository.lock_queue(session, account.id))
                # The blocker lets go only once the lock's statement has been refused once.
                await asyncio.to_thread(busy_errors.wait, 30)
                assert busy_errors.is_set()
                assert not locking.done()
                blocker.execute("COMMIT")
                locked = await locking
                await session.commit()
        finally:
            blocker.close()
        assert locked.version == 1
    finally:
        await db.dispose()
