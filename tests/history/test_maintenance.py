"""The history's upkeep, one pass at a time on SQLite and PostgreSQL: streams left open
with nothing playing are closed, open plays nobody polls are ended (as estimates), and
plays older than the retention are deleted. The loop's clock is handed in; its pass is
called directly, so nothing here waits for the loop or measures time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.history.support import open_rows
from tests.realtime.conftest import new_account, realtime_settings
from tunedeck.history.maintenance import IDLE_STOPPER, HistoryMaintenance
from tunedeck.history.models import OpenPlay, Play, Stream
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.leases import Lease
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.realtime.poll_leases import lease_name

IDLE = timedelta(minutes=30)
GAP = timedelta(minutes=2)
RETENTION_DAYS = 30
TRACK = timedelta(minutes=3)


def maintenance(
    database: Database, database_url: str, tmp_path: Path, now: datetime
) -> HistoryMaintenance:
    settings = realtime_settings(
        database_url,
        None,
        tmp_path,
        stream_idle_seconds=IDLE.total_seconds(),
        history_gap_seconds=GAP.total_seconds(),
        history_retention_days=RETENTION_DAYS,
    )
    return HistoryMaintenance(UnitsOfWork(database), settings, clock=lambda: now)


def play_row(account: uuid.UUID, started_at: datetime, **fields: Any) -> Play:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "started_at": started_at,
        "account_id": account,
        "item_uri": f"spotify:track:{uuid.uuid4().hex[:22]}",
        "item_type": "track",
        "name": "Ünïcödé | song",
        "artists": ["Band"],
        "artist": "Band",
        "album": None,
        "duration_ms": int(TRACK.total_seconds() * 1000),
        "art_url": None,
        "ended_at": started_at + TRACK,
        "listened_ms": int(TRACK.total_seconds() * 1000),
        "end_reason": "natural",
        "source": "context",
    }
    values.update(fields)
    return Play(**values)


@dataclass
class Opened:
    account: uuid.UUID
    play_id: uuid.UUID
    seen_at: datetime


async def open_play(
    database: Database, *, seen_at: datetime, progress_ms: int, playing: bool
) -> Opened:
    """An account whose play is open, last seen at ``seen_at`` at ``progress_ms``, as a
    poller that stopped polling it left it."""
    account = await new_account(database)
    started_at = seen_at - timedelta(milliseconds=progress_ms)
    play = play_row(account, started_at, ended_at=None, end_reason=None, listened_ms=progress_ms)
    async with database.session() as session:
        session.add(
            OpenPlay(
                account_id=account,
                play_id=play.id,
                started_at=started_at,
                item_uri=play.item_uri,
                item_type="track",
                duration_ms=play.duration_ms,
                is_playing=playing,
                progress_ms=progress_ms,
                seen_at=seen_at,
                listened_ms=progress_ms,
            )
        )
        await session.flush()
        session.add(play)
    return Opened(account, play.id, seen_at)


async def the_play(database: Database, play_id: uuid.UUID) -> Play:
    async with database.session() as session:
        found = await session.scalar(select(Play).where(Play.id == play_id))
    assert found is not None
    return found


async def add_stream(
    database: Database, account: uuid.UUID, started_at: datetime, plays: list[Play]
) -> uuid.UUID:
    stream = Stream(id=uuid.uuid4(), account_id=account, started_at=started_at, started_by="t")
    async with database.session() as session:
        session.add(stream)
        await session.flush()
        for play in plays:
            play.stream_id = stream.id
            play.offset_ms = round((play.started_at - started_at).total_seconds() * 1000)
            session.add(play)
    return stream.id


async def the_stream(database: Database, stream_id: uuid.UUID) -> Stream:
    async with database.session() as session:
        found = await session.get(Stream, stream_id)
    assert found is not None
    return found


async def test_a_stream_idle_past_its_time_is_closed_and_others_stay_live(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    began = now - timedelta(hours=3)
    quiet, busy = await new_account(database), await new_account(database)
    # The last play ended longer ago than the idle time, nothing plays: closed.
    quiet_stream = await add_stream(
        database, quiet, began, [play_row(quiet, now - IDLE - TRACK - timedelta(minutes=1))]
    )
    # A play ended within the idle time: still live.
    busy_stream = await add_stream(
        database, busy, began, [play_row(busy, now - IDLE + timedelta(minutes=5))]
    )
    # Something is playing (an open play), however old the last end: still live.
    live = await open_play(database, seen_at=now, progress_ms=10_000, playing=True)
    playing_stream = await add_stream(database, live.account, began, [])

    await maintenance(database, database_url, tmp_path, now).run_once()

    closed = await the_stream(database, quiet_stream)
    assert (closed.stopped_at, closed.stopped_by) == (now, IDLE_STOPPER)
    for still_live in (busy_stream, playing_stream):
        assert (await the_stream(database, still_live)).stopped_at is None


async def test_a_stream_just_started_is_not_idle_yet(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    account = await new_account(database)
    fresh = await add_stream(database, account, now - IDLE + timedelta(minutes=1), [])
    closed = await maintenance(database, database_url, tmp_path, now).close_idle_streams(now)
    assert fresh not in closed
    assert (await the_stream(database, fresh)).stopped_at is None
    # Once the idle time has passed with nothing playing, the same pass closes it.
    later = now + timedelta(minutes=2)
    closed = await maintenance(database, database_url, tmp_path, later).close_idle_streams(later)
    assert fresh in closed


async def test_open_plays_nobody_polls_are_ended_as_estimates_once_due(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    # Playing, last seen 10 min ago one minute in: it ran out two minutes after that.
    ran_out = await open_play(
        database, seen_at=now - timedelta(minutes=10), progress_ms=60_000, playing=True
    )
    # Paused longer than the idle time: ended where it was last seen.
    paused = await open_play(
        database, seen_at=now - IDLE - timedelta(minutes=1), progress_ms=30_000, playing=False
    )
    # Playing, seen 10 s ago: not due (its end is not past yet).
    recent = await open_play(
        database, seen_at=now - timedelta(seconds=10), progress_ms=0, playing=True
    )
    # As old as the first, but a poller holds the account's lease: the poller judges.
    polled = await open_play(
        database, seen_at=now - timedelta(minutes=10), progress_ms=60_000, playing=True
    )
    async with database.session() as session:
        session.add(
            Lease(
                name=lease_name(polled.account),
                owner="another process",
                acquired_at=now,
                renewed_at=now,
                expires_at=now + timedelta(seconds=30),
            )
        )

    ended = await maintenance(database, database_url, tmp_path, now).end_unfollowed_plays(now)
    assert ended >= 2

    first = await the_play(database, ran_out.play_id)
    assert first.ended_at == ran_out.seen_at + timedelta(minutes=2)
    assert (first.ended_estimated, first.end_reason) == (True, "unknown")
    assert first.listened_ms == 180_000  # heard to its end, never past it
    second = await the_play(database, paused.play_id)
    assert (second.ended_at, second.ended_estimated) == (paused.seen_at, True)
    assert (second.end_reason, second.listened_ms) == ("unknown", 30_000)
    for gone in (ran_out, paused):
        assert await open_rows(database, gone.account) == []
    for kept in (recent, polled):
        assert (await the_play(database, kept.play_id)).ended_at is None
        assert len(await open_rows(database, kept.account)) == 1


async def test_retention_deletes_ended_plays_older_than_the_setting(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    account = await new_account(database)
    old = play_row(account, now - timedelta(days=RETENTION_DAYS + 40))
    edge = play_row(account, now - timedelta(days=RETENTION_DAYS, hours=1))
    recent = play_row(account, now - timedelta(days=RETENTION_DAYS - 1))
    async with database.session() as session:
        session.add_all([old, edge, recent])
    # Still open after all that time (a paused play no pass ended yet): not deleted.
    open_old = await open_play(
        database, seen_at=now - timedelta(days=RETENTION_DAYS + 2), progress_ms=1000, playing=False
    )

    await maintenance(database, database_url, tmp_path, now).apply_retention(now)

    async with database.session() as session:
        left = set(
            await session.scalars(
                select(Play.id).where(Play.account_id.in_([account, open_old.account]))
            )
        )
    assert left == {recent.id, open_old.play_id}


async def test_the_loop_applies_retention_hourly_not_on_every_pass(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    moments = iter([now, now + timedelta(minutes=1), now + timedelta(hours=1, minutes=1)])
    current = {"at": now}
    loop = maintenance(database, database_url, tmp_path, now)
    loop.clock = lambda: current["at"]
    account = await new_account(database)

    async def add_old_play() -> uuid.UUID:
        play = play_row(account, current["at"] - timedelta(days=RETENTION_DAYS + 1))
        async with database.session() as session:
            session.add(play)
        return play.id

    async def kept(play_id: uuid.UUID) -> bool:
        async with database.session() as session:
            return await session.scalar(select(Play.id).where(Play.id == play_id)) is not None

    current["at"] = next(moments)
    first = await add_old_play()
    await loop.run_once()
    assert not await kept(first)  # the first pass applies it

    current["at"] = next(moments)
    second = await add_old_play()
    await loop.run_once()
    assert await kept(second)  # a minute later: not yet

    current["at"] = next(moments)
    await loop.run_once()
    assert not await kept(second)  # an hour after the last time: again
