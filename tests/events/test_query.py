"""Reading events back: GET /v1/spotify/events and the query service behind it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.accounts.conftest import Caller, MakeCaller
from tests.events.actions import RECORD_PATH, SAMPLE_TRACK
from tests.events.support import ACTOR, eventually, new_account, stored_ids
from tunedeck.events import repository, service
from tunedeck.events.models import OutboxEvent
from tunedeck.events.schemas import EventOut
from tunedeck.events.types import EventType
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.errors import BadRequest, ValidationFailed

EVENTS = "/v1/spotify/events"
TYPES = [
    EventType.PLAY,
    EventType.PAUSE,
    EventType.VOLUME,
    EventType.SKIP,
    EventType.PLAY,
    EventType.SEEK,
    EventType.PAUSE,
    EventType.PLAY,
    EventType.VOLUME,
    EventType.QUEUE_ADD,
    EventType.PLAY,
    EventType.PLAYLIST,
]


async def seed(client: httpx.AsyncClient, caller: Caller, database: Database) -> list[EventOut]:
    """Record TYPES through the action door; wait until the relay stored them all."""
    events = []
    for event_type in TYPES:
        r = await client.post(RECORD_PATH, headers=caller.headers, json={"type": event_type})
        assert r.status_code == 200, r.text
        events.append(EventOut.model_validate(r.json()))

    async def all_stored() -> bool:
        return len(await stored_ids(database, caller.account.id)) == len(events)

    await eventually(all_stored, what="seeded events stored")
    return events


async def get(client: httpx.AsyncClient, caller: Caller, **params: Any) -> httpx.Response:
    return await client.get(EVENTS, headers=caller.headers, params=params)


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


def newest_first(events: list[EventOut]) -> list[str]:
    return [str(e.id) for e in reversed(events)]


@pytest.fixture
async def reader(make_caller: MakeCaller) -> Caller:
    return await make_caller("spotify:read", "spotify:playback")


async def test_newest_first_with_everything_recorded(
    client: httpx.AsyncClient, reader: Caller, database: Database
) -> None:
    events = await seed(client, reader, database)
    r = await get(client, reader)
    assert r.status_code == 200, r.text
    body = r.json()
    assert ids(body) == newest_first(events)
    assert body["next_cursor"] is None
    first = body["items"][-1]
    assert first == events[0].model_dump(mode="json")
    assert first["track"]["name"] == SAMPLE_TRACK.name
    assert first["actor"] == {"key_id": reader.key_id, "label": "test key", "kind": "api_key"}


async def test_type_filters(client: httpx.AsyncClient, reader: Caller, database: Database) -> None:
    events = await seed(client, reader, database)
    plays = [e for e in events if e.type is EventType.PLAY]
    r = await get(client, reader, type="spotify:play")
    assert ids(r.json()) == newest_first(plays)
    some = [e for e in events if e.type in (EventType.PAUSE, EventType.VOLUME)]
    repeated = await client.get(
        EVENTS,
        headers=reader.headers,
        params=[("type", "spotify:pause"), ("type", "spotify:volume")],
    )
    assert ids(repeated.json()) == newest_first(some)
    comma = await get(client, reader, type="spotify:volume,spotify:pause")
    assert ids(comma.json()) == newest_first(some)
    none = await get(client, reader, type="spotify:device")
    assert none.json() == {"items": [], "next_cursor": None}


async def test_time_window(client: httpx.AsyncClient, reader: Caller, database: Database) -> None:
    events = await seed(client, reader, database)
    since, until = events[3].occurred_at, events[8].occurred_at
    r = await get(client, reader, since=since.isoformat(), until=until.isoformat())
    # since inclusive, until exclusive
    assert ids(r.json()) == newest_first(events[3:8])
    only_since = await get(client, reader, since=since.isoformat())
    assert ids(only_since.json()) == newest_first(events[3:])
    only_until = await get(client, reader, until=until.isoformat())
    assert ids(only_until.json()) == newest_first(events[:8])
    # A time without an offset is UTC.
    naive = since.astimezone(UTC).replace(tzinfo=None).isoformat()
    assert ids((await get(client, reader, since=naive)).json()) == newest_first(events[3:])
    later = await get(client, reader, since=(utcnow() + timedelta(hours=1)).isoformat())
    assert later.json()["items"] == []
    # since after until: an empty window, answered as one.
    empty = await get(client, reader, since=until.isoformat(), until=since.isoformat())
    assert empty.json() == {"items": [], "next_cursor": None}


async def test_cursor_pages_have_no_overlap_or_gap(
    client: httpx.AsyncClient, reader: Caller, database: Database
) -> None:
    events = await seed(client, reader, database)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"limit": 5}, newest_first(events)),
        (
            {"limit": 2, "type": "spotify:play"},
            newest_first([e for e in events if e.type is EventType.PLAY]),
        ),
        ({"limit": 1}, newest_first(events)),
    ]
    for params, expected in cases:
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            body = (await get(client, reader, **query)).json()
            assert len(body["items"]) <= params["limit"]
            seen += ids(body)
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
        # next_cursor only when there is more: no empty last page.
        assert pages == -(-len(expected) // int(params["limit"]))


async def test_another_account_sees_nothing(
    client: httpx.AsyncClient, reader: Caller, database: Database, make_caller: MakeCaller
) -> None:
    await seed(client, reader, database)
    other = await make_caller("spotify:read")
    r = await get(client, other)
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": None}
    # A cursor taken from the first account's pages does not open them either.
    cursor = (await get(client, reader, limit=2)).json()["next_cursor"]
    assert (await get(client, other, cursor=cursor)).json()["items"] == []


async def test_requires_spotify_read(
    client: httpx.AsyncClient, reader: Caller, make_caller: MakeCaller, database: Database
) -> None:
    await seed(client, reader, database)
    assert (await client.get(EVENTS)).status_code == 401
    writer = await make_caller("spotify:playback", account=reader.account)
    r = await get(client, writer)
    assert r.status_code == 403
    assert "spotify:read" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"cursor": "not-a-cursor"}, 400, "bad_cursor"),
        ({"cursor": "bm90aGluZ3xoZXJl"}, 400, "bad_cursor"),  # "nothing|here"
        ({"type": "spotify:dance"}, 422, "unknown_event_type"),
        ({"type": "spotify:play,dance"}, 422, "unknown_event_type"),
        ({"until": "0.5"}, 422, "validation_error"),  # a number is not a time
        ({"since": "yesterday"}, 422, "validation_error"),
        ({"limit": 0}, 422, "validation_error"),
        ({"limit": 201}, 422, "validation_error"),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    client: httpx.AsyncClient, reader: Caller, params: dict[str, Any], status: int, code: str
) -> None:
    r = await get(client, reader, **params)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


async def test_service_pages_through_events_sharing_a_time(database: Database) -> None:
    """Two events at the same instant: the id breaks the tie, pages neither skip nor repeat."""
    account = await new_account(database)
    moment = datetime(2026, 11, 3, 12, 0, 0, 123456, tzinfo=UTC)
    made = []
    for i in range(5):
        event = EventOut(
            id=uuid.uuid4(),
            account_id=account.id,
            type=EventType.SKIP,
            occurred_at=moment if i < 4 else moment + timedelta(microseconds=1),
            actor=ACTOR,
            params={"i": i},
            track=None,
        )
        made.append(event)
    async with database.session() as session:
        rows = [
            OutboxEvent(
                seq=0,
                event_id=e.id,
                account_id=e.account_id,
                occurred_at=e.occurred_at,
                payload=e.model_dump(mode="json"),
            )
            for e in made
        ]
        await repository.store_events(session, rows, utcnow())
    expected = [str(made[4].id), *sorted((str(e.id) for e in made[:4]), reverse=True)]
    seen: list[str] = []
    cursor = None
    async with database.session() as session:
        while True:
            page = await service.list_events(session, account.id, cursor=cursor, limit=2)
            seen += [str(e.id) for e in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected
        assert all(e.track is None for e in page.items)
        with pytest.raises(BadRequest):
            await service.list_events(session, account.id, cursor="%%%")
        with pytest.raises(ValidationFailed):
            await service.list_events(session, account.id, limit=0)
        window = await service.list_events(
            session, account.id, since=moment, until=moment, types=[EventType.SKIP]
        )
        assert window.items == []
