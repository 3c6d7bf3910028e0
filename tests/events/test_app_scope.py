"""Two apps in one process, each on its own database: their events are recorded, woken,
relayed and broadcast independently (nothing of the events domain is shared through the
module), on SQLite and on PostgreSQL. What a commit wakes is the outbox its units of work
were made with, and nothing else."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.events.actions import RECORD_PATH, with_actions
from tests.events.support import (
    Collector,
    eventually,
    new_account,
    outbox_count,
    record,
    stored_ids,
)
from tests.kit import storage
from tests.support import accounts, services
from tests.support.app import app_settings, asgi_client
from tunedeck.accounts.models import Account
from tunedeck.app import create_app
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import Outbox, UnitsOfWork
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
    created = await accounts.create_key(db, account_id, "two apps", ["spotify:playback"])
    return created.key


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
        assert (first.units.outbox, second.units.outbox) == (outbox_one, outbox_two)
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


async def test_a_unit_of_work_wakes_its_own_outbox_only(database: Database) -> None:
    """Two outboxes of one database (two apps on it): a commit wakes the one its units
    of work were made with; a unit that records nothing wakes none."""
    account = await new_account(database)
    mine, theirs = Outbox(), Outbox()
    woken: list[str] = []
    mine.add_waker(lambda: woken.append("mine"))
    theirs.add_waker(lambda: woken.append("theirs"))
    units = UnitsOfWork(database, mine)
    await record(units, account.id)
    assert woken == ["mine"]
    async with units.begin():
        pass  # wrote nothing to the outbox
    assert woken == ["mine"]
    await record(UnitsOfWork(database, theirs), account.id)
    assert woken == ["mine", "theirs"]
    await record(database, account.id)  # units of work with no outbox: nobody to wake
    assert woken == ["mine", "theirs"]
    assert await outbox_count(database, account.id) == 3
