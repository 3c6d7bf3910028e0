"""Helpers of the events tests: recording, reading the tables, waiting, collecting, a bus
that fails on demand."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import func, select

from tests.events.actions import SAMPLE_TRACK
from tests.support import accounts
from tunedeck.accounts.models import Account
from tunedeck.events.bus import BusUnavailable, Callback, EventBus, History, Subscription
from tunedeck.events.models import OutboxEvent, PlatformEvent
from tunedeck.events.recorder import record_event
from tunedeck.events.schemas import Actor, EventOut
from tunedeck.events.types import EventType
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork

ACTOR = Actor(key_id=str(uuid.uuid4()), label="bot key", kind="api_key")


async def new_account(db: Database) -> Account:
    return await accounts.create_account(db, f"ev-{uuid.uuid4().hex[:10]}")


async def record(
    db: Database | UnitsOfWork,
    account_id: uuid.UUID,
    event_type: EventType = EventType.PLAY,
    **params: Any,
) -> EventOut:
    """One action's unit of work: record the event and commit. On a bare database the
    commit wakes no relay (they poll); units of work wake their outbox's."""
    units = db if isinstance(db, UnitsOfWork) else UnitsOfWork(db)
    async with units.begin() as work:
        return await record_event(
            work,
            account_id=account_id,
            event_type=event_type,
            actor=ACTOR,
            params=params,
            track=SAMPLE_TRACK,
        )


async def record_many(
    db: Database | UnitsOfWork, account_id: uuid.UUID, count: int
) -> list[EventOut]:
    types = list(EventType)
    return [await record(db, account_id, types[i % len(types)], n=i) for i in range(count)]


async def stored_ids(db: Database, account_id: uuid.UUID) -> list[uuid.UUID]:
    """The account's stored event ids, duplicates kept, oldest first."""
    async with db.session() as session:
        rows = await session.scalars(
            select(PlatformEvent.id)
            .where(PlatformEvent.account_id == account_id)
            .order_by(PlatformEvent.occurred_at, PlatformEvent.id)
        )
        return list(rows)


async def outbox_rows(db: Database, account_id: uuid.UUID) -> list[OutboxEvent]:
    async with db.session() as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.account_id == account_id)
            .order_by(OutboxEvent.seq)
        )
        return list(rows)


async def outbox_count(db: Database, account_id: uuid.UUID) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.account_id == account_id)
        )
        return int(count or 0)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(0.02)


def without_id(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "id"}


class Collector:
    """Reads a subscription in the background into ``messages``."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.messages: list[dict[str, Any]] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.subscription:
            self.messages.append(message)

    @property
    def ids(self) -> list[str]:
        """The event ids of the ``event`` messages received, in order."""
        return [m["event"]["id"] for m in self.messages]

    @property
    def bare(self) -> list[dict[str, Any]]:
        """The messages without the ``id`` the bus gave them."""
        return [without_id(m) for m in self.messages]

    async def wait_for(self, count: int, within: float = 10.0) -> None:
        async def enough() -> bool:
            return len(self.messages) >= count

        await eventually(enough, within=within, what=f"{count} messages")

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class FlakyBus:
    """A bus that fails while ``down``, or after ``fail_after`` more successful publishes."""

    def __init__(self, inner: EventBus) -> None:
        self.inner = inner
        self.down = False
        self.fail_after: int | None = None
        self.attempts = 0

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        return (await self.publish_many([(account_id, message)]))[0]

    async def publish_many(self, messages: Sequence[tuple[uuid.UUID, dict[str, Any]]]) -> list[int]:
        ids = []
        for sent, (account_id, message) in enumerate(messages):
            self.attempts += 1
            if self.fail_after is not None:
                if self.fail_after == 0:
                    raise BusUnavailable("flaky bus: gave up mid-batch", published=sent)
                self.fail_after -= 1
            if self.down:
                raise BusUnavailable("flaky bus: down", published=sent)
            ids.append(await self.inner.publish(account_id, message))
        return ids

    def subscribe(self, account_id: uuid.UUID) -> Any:
        return self.inner.subscribe(account_id)

    def listen(self, account_id: uuid.UUID, callback: Callback) -> Callable[[], None]:
        return self.inner.listen(account_id, callback)

    async def history(self, account_id: uuid.UUID, since: int | None = None) -> History:
        return await self.inner.history(account_id, since)

    @property
    def connected(self) -> bool:
        return not self.down

    @property
    def reconnects(self) -> int:
        return self.inner.reconnects

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
