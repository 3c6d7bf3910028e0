"""Two apps in one process, each on its own database: their events are recorded, woken,
relayed and broadcast independently (nothing of the events domain is shared through the
module), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.events.actions import RECORD_PATH, with_actions
from tests.events.support import Collector, eventually, outbox_count, stored_ids
from tests.kit import storage
from tests.support import services
from tests.support.app import app_settings, asgi_client
from tunedeck.accounts import service as accounts
from tunedeck.accounts.models import Account
from tunedeck.app import create_app
from tunedeck.events.outbox import Outbox
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database
from tunedeck.runtime import app_runtime


@pytest.fixture(params=storage.BACKENDS)
def two_database_urls(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """Two migrated databases of the same backend, for this test alone."""
    if request.param == "sqlite":
        urls = tuple(
            f"sqlite:///{tmp_path_factory.mktemp('two-apps') / f'{name}.db'}"
            for name in ("one", "two")
        )
        for url in urls:
            asyncio.run(upgrade_database(url))
        yield urls[0], urls[1]
        return
    request.getfixturevalue("postgres_url")  # the shared fixture decides skip / fail
    made: list[str] = []
    try:
        for _ in range(2):
            made.append(services.create_database())
            asyncio.run(upgrade_database(made[-1]))
        yield made[0], made[1]
    finally:
        for url in made:
            services.drop_database(url)


async def _api_key(db: Database, account_id: uuid.UUID) -> str:
    """The same account (same id) in each database, with a key allowed to play."""
    async with db.session() as session:
        session.add(Account(id=account_id, name=storage.unique()))
        await session.flush()
        created = await accounts.create_api_key(
            session, account_id, "two apps", ["spotify:playback"]
        )
    return created.secret


async def _record(app: FastAPI, key: str, count: int) -> list[str]:
    """``count`` actions through the app's door, each recording one event in its request."""
    ids = []
    async with asgi_client(app) as client:
        for n in range(count):
            response = await client.post(
                RECORD_PATH,
                headers={"Authorization": f"Bearer {key}"},
                json={"type": "spotify:seek", "params": {"position_ms": n}},
            )
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
    return ids


async def test_two_apps_record_and_relay_independently(
    two_database_urls: tuple[str, str], tmp_path: Path
) -> None:
    # In-process buses: what reaches a bus came through that app's relay, nowhere else.
    one, two = (
        with_actions(create_app(app_settings(url, tmp_path)))
        for n, url in enumerate(two_database_urls)
    )
    # One account id in both databases: a crossed wire would deliver to the other side.
    account_id = uuid.uuid4()
    async with AsyncExitStack() as stack:
        for app in (one, two):
            await stack.enter_async_context(app.router.lifespan_context(app))
        first, second = app_runtime(one), app_runtime(two)
        outbox_one, outbox_two = first.outbox, second.outbox
        relay_one, relay_two = first.relay, second.relay
        assert outbox_one is not outbox_two
        assert outbox_one.drain_lock is not outbox_two.drain_lock
        assert (relay_one.outbox, relay_two.outbox) == (outbox_one, outbox_two)
        assert outbox_one.waker_count == outbox_two.waker_count == 1

        key_one = await _api_key(first.db, account_id)
        key_two = await _api_key(second.db, account_id)
        sub_one = await stack.enter_async_context(first.bus.subscribe(account_id))
        sub_two = await stack.enter_async_context(second.bus.subscribe(account_id))
        got_one, got_two = Collector(sub_one), Collector(sub_two)
        stack.push_async_callback(got_one.stop)
        stack.push_async_callback(got_two.stop)

        woken = (relay_one.wakeups, relay_two.wakeups)
        ids_one = await _record(one, key_one, 3)
        # Each commit woke its own app's relay, and only it.
        assert (relay_one.wakeups, relay_two.wakeups) == (woken[0] + 3, woken[1])
        ids_two = await _record(two, key_two, 2)
        assert (relay_one.wakeups, relay_two.wakeups) == (woken[0] + 3, woken[1] + 2)

        await got_one.wait_for(3, within=30)
        await got_two.wait_for(2, within=30)

        async def drained() -> bool:
            return (
                await outbox_count(first.db, account_id) == 0
                and await outbox_count(second.db, account_id) == 0
            )

        await eventually(drained, within=30, what="both outboxes drained")
        # Each bus carried its own app's events, each table holds its own rows.
        assert (got_one.ids, got_two.ids) == (ids_one, ids_two)
        stored_one = [str(i) for i in await stored_ids(first.db, account_id)]
        stored_two = [str(i) for i in await stored_ids(second.db, account_id)]
        assert (stored_one, stored_two) == (ids_one, ids_two)
    # Shut down: the relays left their outboxes and stopped.
    assert outbox_one.waker_count == outbox_two.waker_count == 0
    assert (relay_one.running, relay_two.running) == (False, False)


async def test_a_database_has_one_outbox(database: Database) -> None:
    outbox = Outbox.of(database)
    assert Outbox.of(database) is outbox
    async with database.session() as session:
        assert session.info["tunedeck.events.outbox"] is outbox
    other = Database(database.url)
    try:
        assert Outbox.of(other) is not outbox
    finally:
        await other.dispose()
