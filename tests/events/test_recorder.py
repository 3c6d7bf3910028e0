"""Recording: the outbox row commits with the action's unit of work, and only with it; the
commit, and only a commit, wakes the outbox's relays."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from tests.accounts.conftest import MakeCaller
from tests.events.actions import RECORD_PATH, SAMPLE_TRACK
from tests.events.support import (
    ACTOR,
    eventually,
    new_account,
    outbox_count,
    outbox_rows,
    record,
    stored_ids,
)
from tunedeck.accounts.permissions import Permission, Principal, PrincipalKind
from tunedeck.events.models import OutboxEvent
from tunedeck.events.recorder import record_event, record_event_alone
from tunedeck.events.schemas import Actor, EventOut
from tunedeck.events.types import EventType
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import Outbox, UnitsOfWork

PARAMS: dict[EventType, dict[str, object]] = {
    EventType.PLAY: {"uri": "spotify:track:1"},
    EventType.PAUSE: {},
    EventType.SKIP: {"to_uri": "spotify:track:2"},
    EventType.PREVIOUS: {},
    EventType.SEEK: {"position_ms": 61_000},
    EventType.VOLUME: {"old_volume": 40, "new_volume": 65},
    EventType.SHUFFLE: {"state": True},
    EventType.REPEAT: {"mode": "track"},
    EventType.QUEUE_ADD: {"uri": "spotify:track:3"},
    EventType.DEVICE: {"device_id": "dev-2", "device_name": "Kitchen"},
    EventType.PLAYLIST: {
        "uri": "spotify:playlist:9",
        "name": "Stream vibes",
        "cover_url": "https://i.scdn.co/image/cover",
        "track_count": 42,
        "playlist_url": "https://open.spotify.com/playlist/9",
    },
    # Song requests (a request's params carry it whole; see requests.recording).
    EventType.REQUEST_ADDED: {"request": {"id": "r1", "state": "queued"}},
    EventType.REQUEST_APPROVED: {"request": {"id": "r1", "state": "queued"}},
    EventType.REQUEST_REJECTED: {"request": {"id": "r1", "state": "rejected"}},
    EventType.REQUEST_REMOVED: {"request": {"id": "r1", "state": "removed"}},
    EventType.REQUEST_PLAYED: {"request": {"id": "r1", "state": "played"}},
    EventType.REQUEST_SKIPPED: {"request": {"id": "r1", "state": "skipped"}},
    EventType.REQUEST_MOVED: {"request": {"id": "r1"}, "position": 1},
    EventType.REQUEST_BANNED: {"viewer": {"platform": "twitch", "id": "7"}, "removed": []},
    EventType.REQUEST_UNBANNED: {"viewer": {"platform": "twitch", "id": "7"}},
    EventType.REQUEST_SETTINGS: {"open": False, "message": "brb", "rules_changed": False},
    EventType.REQUEST_CLEARED: {"removed": ["r1", "r2"]},
}


def test_there_are_the_types_of_the_spec() -> None:
    playback = (
        *("play", "pause", "skip", "previous", "seek", "volume", "shuffle", "repeat"),
        *("queue_add", "device", "playlist"),
    )
    requests = (
        *("added", "approved", "rejected", "removed", "played", "skipped"),
        *("moved", "banned", "unbanned", "settings", "cleared"),
    )
    assert sorted(t.value for t in EventType) == sorted(
        [f"spotify:{name}" for name in playback] + [f"request:{name}" for name in requests]
    )
    assert set(PARAMS) == set(EventType)


class Wakeups:
    """An outbox and how many times it woke its drainers."""

    def __init__(self) -> None:
        self.outbox = Outbox()
        self.count = 0
        self.outbox.add_waker(self.wake)

    def wake(self) -> None:
        self.count += 1


async def test_outbox_row_is_part_of_the_unit_of_work(database: Database) -> None:
    account = await new_account(database)
    woken = Wakeups()
    async with UnitsOfWork(database, woken.outbox).begin() as work:
        event = await record_event(
            work,
            account_id=account.id,
            event_type=EventType.SEEK,
            actor=ACTOR,
            params={"position_ms": 1000},
            track=SAMPLE_TRACK,
        )
        # Not visible to anyone else before the commit, and nobody woken for it...
        assert await outbox_count(database, account.id) == 0
        assert woken.count == 0
    # ...and there, with the whole event, after it; the commit woke the outbox once.
    assert woken.count == 1
    (row,) = await outbox_rows(database, account.id)
    assert row.event_id == event.id
    assert row.occurred_at == event.occurred_at
    assert EventOut.model_validate(row.payload) == event
    assert (row.stored_at, row.published_at, row.attempts) == (None, None, 0)


async def test_event_recorded_alone_is_committed_and_wakes_the_relays(
    database_url: str,
) -> None:
    """An action's event as a unit of work of its own: there for everyone once recorded,
    the relays woken; on PostgreSQL one INSERT, which commits by itself (no BEGIN, no
    COMMIT)."""
    database = Database(database_url)  # its own pool: one connection, watched below
    try:
        account = await new_account(database)
        outbox = Outbox()
        wakes: list[int] = []

        def woken() -> None:
            wakes.append(1)

        sent: list[str] = []
        if database.backend == "postgresql":
            async with database.engine.connect() as conn:  # the pool's one connection
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                driver.add_query_logger(lambda record: sent.append(record.query))
        outbox.add_waker(woken)
        event = await record_event_alone(
            UnitsOfWork(database, outbox),
            account_id=account.id,
            event_type=EventType.VOLUME,
            actor=ACTOR,
            params={"old_volume": 10, "new_volume": 20},
            track=SAMPLE_TRACK,
        )
        outbox.remove_waker(woken)
        for _ in range(3):
            await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
        checked = list(sent)
        (row,) = await outbox_rows(database, account.id)
    finally:
        await database.dispose()
    assert EventOut.model_validate(row.payload) == event
    assert wakes == [1]
    if database.backend == "postgresql":
        # The pool's check of the connection, then the INSERT, a prepared statement that
        # asyncpg's logger does not see; a transaction would show its BEGIN and COMMIT.
        assert checked == ["SELECT 1"]


async def test_rolled_back_action_leaves_no_event(database: Database) -> None:
    account = await new_account(database)
    woken = Wakeups()

    async def action_failing_after_recording() -> None:
        async with UnitsOfWork(database, woken.outbox).begin() as work:
            await record_event(
                work,
                account_id=account.id,
                event_type=EventType.PAUSE,
                actor=ACTOR,
                params={},
                track=None,
            )
            raise RuntimeError("the Spotify call failed after all")

    with pytest.raises(RuntimeError):
        await action_failing_after_recording()
    assert await outbox_count(database, account.id) == 0
    assert woken.count == 0


async def test_every_type_recorded_once_through_a_request(
    client: httpx.AsyncClient, make_caller: MakeCaller, database: Database
) -> None:
    caller = await make_caller(Permission.SPOTIFY_PLAYBACK.value)
    answered: list[EventOut] = []
    for event_type, params in PARAMS.items():
        r = await client.post(
            RECORD_PATH, headers=caller.headers, json={"type": event_type, "params": params}
        )
        assert r.status_code == 200, r.text
        answered.append(EventOut.model_validate(r.json()))

    ids = [e.id for e in answered]

    async def all_stored() -> bool:
        return sorted(await stored_ids(database, caller.account.id)) == sorted(ids)

    await eventually(all_stored, what="every event stored")
    # Exactly once each, in the order they happened, and nothing left behind.
    assert await stored_ids(database, caller.account.id) == ids
    await eventually(lambda: _outbox_empty(database, caller.account.id), what="outbox drained")
    for event, (event_type, params) in zip(answered, PARAMS.items(), strict=True):
        assert event.type is event_type
        assert event.params == params
        assert event.account_id == caller.account.id
        assert event.track == SAMPLE_TRACK
        assert event.actor == Actor(key_id=caller.key_id, label="test key", kind="api_key")


async def _outbox_empty(db: Database, account_id: uuid.UUID) -> bool:
    return await outbox_count(db, account_id) == 0


async def test_failed_action_loses_its_event(
    client: httpx.AsyncClient, make_caller: MakeCaller, database: Database
) -> None:
    caller = await make_caller(Permission.SPOTIFY_PLAYBACK.value)
    r = await client.post(
        RECORD_PATH,
        headers=caller.headers,
        json={"type": "spotify:play", "fail_after_recording": True},
    )
    assert r.status_code == 409
    ok = await client.post(RECORD_PATH, headers=caller.headers, json={"type": "spotify:pause"})
    assert ok.status_code == 200
    kept = uuid.UUID(ok.json()["id"])

    async def stored() -> bool:
        return kept in await stored_ids(database, caller.account.id)

    await eventually(stored, what="the successful action's event stored")
    await asyncio.sleep(0.2)
    assert await stored_ids(database, caller.account.id) == [kept]
    assert await outbox_count(database, caller.account.id) == 0


async def test_event_time_and_id_fixed_at_record_time(database: Database) -> None:
    account = await new_account(database)
    first = await record(database, account.id)
    second = await record(database, account.id)
    assert first.id != second.id
    assert first.occurred_at <= second.occurred_at
    assert first.occurred_at.tzinfo is not None
    async with database.session() as session:
        seqs = list(
            await session.scalars(
                select(OutboxEvent.event_id)
                .where(OutboxEvent.account_id == account.id)
                .order_by(OutboxEvent.seq)
            )
        )
    assert seqs == [first.id, second.id]


async def test_bad_input_fails_the_action_not_the_relay(database: Database) -> None:
    account = await new_account(database)
    woken = Wakeups()
    async with UnitsOfWork(database, woken.outbox).begin() as work:
        with pytest.raises(ValueError, match="spotify:dance"):
            await record_event(
                work,
                account_id=account.id,
                event_type="spotify:dance",  # type: ignore[arg-type]
                actor=ACTOR,
                params={},
                track=None,
            )
        with pytest.raises(ValueError, match="serialize"):
            await record_event(
                work,
                account_id=account.id,
                event_type=EventType.PLAY,
                actor=ACTOR,
                params={"uri": object()},
                track=None,
            )
    with pytest.raises(ValidationError):
        Actor(key_id=None, label="x" * 101, kind="api_key")
    assert await outbox_count(database, account.id) == 0
    assert woken.count == 0  # the unit committed, but wrote nothing to the outbox


def test_actor_from_principal() -> None:
    key_id = uuid.uuid4()
    principal = Principal(
        kind=PrincipalKind.SESSION,
        account_id=uuid.uuid4(),
        account_name="chan",
        label="dashboard of mod",
        permissions=frozenset({Permission.SPOTIFY_PLAYBACK}),
        credential_id=key_id,
    )
    assert Actor.from_principal(principal) == Actor(
        key_id=str(key_id), label="dashboard of mod", kind="session"
    )
    overlay = Principal(
        kind=PrincipalKind.OVERLAY,
        account_id=uuid.uuid4(),
        account_name="chan",
        label="obs",
        permissions=frozenset(),
        credential_id=uuid.uuid4(),
    )
    assert Actor.from_principal(overlay).key_id is None


def test_bus_message_wraps_the_event() -> None:
    event = EventOut(
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        type=EventType.VOLUME,
        occurred_at=datetime.now(UTC),
        actor=ACTOR,
        params={"old_volume": 10, "new_volume": 20},
        track=SAMPLE_TRACK,
    )
    message = event.to_message()
    assert message == {"type": "event", "event": event.model_dump(mode="json")}
    assert EventOut.model_validate(message["event"]) == event
