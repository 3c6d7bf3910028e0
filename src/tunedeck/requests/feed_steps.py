"""The request feeder's decisions in the database: each one short unit of work under the
account's queue lock, with the event it makes (``request:played``, ``request:skipped``,
``request:rejected``) committed with it. No Spotify call in here: the feeder calls Spotify
between these steps, holding no transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.events.recorder import record_event
from tunedeck.events.schemas import Actor, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.kit.db import utcnow
from tunedeck.kit.unit_of_work import UnitOfWork, UnitsOfWork
from tunedeck.player.now_playing import Reading
from tunedeck.requests import playback_repository as repository
from tunedeck.requests.feed_rules import END_TOLERANCE_MS, Seen, item_changed, near_end, went_back
from tunedeck.requests.models import SongRequest
from tunedeck.requests.reasons import Reason, refuse

FEEDER = Actor(key_id=None, label="tunedeck", kind="system")
"""Who changes a request's state when nobody asked: the feeder itself."""


@dataclass(frozen=True, slots=True)
class HandOver:
    """The request being handed to Spotify."""

    id: uuid.UUID
    track_uri: str


@dataclass(frozen=True, slots=True)
class Settled:
    """The account's requests after a reading was taken into account."""

    sent: HandOver | None
    playing: HandOver | None
    waiting: bool
    # The request handed over that another item came on before: is it still coming?
    check_sent: HandOver | None = None
    ended: uuid.UUID | None = None
    # Whether the streamer's music is to resume once no request is in play.
    resume: bool = False


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where the streamer's music was when a request interrupted it."""

    context_uri: str
    item_uri: str | None
    position_ms: int | None


class FeedSteps:
    """The feeder's units of work on one database."""

    def __init__(self, units: UnitsOfWork) -> None:
        self.units = units

    async def settle(
        self,
        account_id: uuid.UUID,
        reading: Reading,
        previous: Reading | None,
        furthest: dict[uuid.UUID, int],
    ) -> Settled:
        """Mark what the reading shows: the playing request ended (``played`` near its
        end, else ``skipped``), the request handed over seen playing (``playing``)."""
        async with self.units.begin() as work:
            # Nothing handed over nor playing (most readings): no lock, nothing to mark.
            glance = await repository.in_play(work.session, account_id)
            if glance.sent is None and glance.playing is None:
                resume = await repository.resume_point(work.session, account_id) is not None
                return Settled(None, None, glance.waiting, resume=resume)
        async with self.units.begin() as work:
            session = work.session
            await repository.lock_queue(session, account_id)
            view = await repository.in_play(session, account_id)
            playing, ended = view.playing, None
            if playing is not None and _ended(playing, previous, reading, furthest):
                await _end(work, playing, played=_played(playing, furthest))
                ended = playing.id
                playing = None
            sent, check = view.sent, None
            if sent is not None and _started(sent, previous, reading):
                _start(sent)
                playing, sent = sent, None
            elif sent is not None and item_changed(previous, reading):
                check = _hand_over(sent)
            return Settled(
                sent=_hand_over(sent),
                playing=_hand_over(playing),
                waiting=view.waiting,
                check_sent=check,
                ended=ended,
                resume=ended is not None,
            )

    async def mark_sent(
        self, account_id: uuid.UUID, reading: Reading, *, start: bool
    ) -> HandOver | None:
        """Mark the first queued request ``sent`` (none when one is already): it is about
        to be handed to Spotify. ``start``: it interrupts what the reading shows, whose
        context is remembered to resume it."""
        async with self.units.begin() as work:
            session = work.session
            await repository.lock_queue(session, account_id)
            if (await repository.in_play(session, account_id)).sent is not None:
                return None
            row = await repository.next_queued(session, account_id)
            if row is None:
                return None
            now = utcnow()
            row.state, row.sent_at, row.updated_at, row.actor = "sent", now, now, FEEDER.label
            seen = Seen.of(reading)
            if start and seen.context_uri is not None:
                await repository.save_resume_point(
                    session,
                    account_id,
                    context_uri=seen.context_uri,
                    item_uri=seen.uri,
                    position_ms=seen.progress_ms,
                )
            return HandOver(row.id, row.track_uri)

    async def unsend(self, account_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """The request did not reach Spotify (or is no longer coming): queued again,
        first in line as before."""
        async with self.units.begin() as work:
            await repository.lock_queue(work.session, account_id)
            row = await repository.request(work.session, account_id, request_id)
            if row is not None and row.state == "sent":
                row.state, row.sent_at, row.updated_at = "queued", None, utcnow()

    async def refused(self, account_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """Spotify refused to play the request (not playable there): ``rejected`` with
        the reason, so the queue goes on with the next one."""
        async with self.units.begin() as work:
            await repository.lock_queue(work.session, account_id)
            row = await repository.request(work.session, account_id, request_id)
            if row is None or row.state != "sent":
                return
            refusal = refuse(Reason.NOT_AVAILABLE)
            now = utcnow()
            row.state, row.reason, row.reason_text = "rejected", refusal.code, refusal.sentence
            row.ended_at, row.updated_at, row.actor = now, now, FEEDER.label
            await _record(work, row, EventType.REQUEST_REJECTED, FEEDER)

    async def forget_resume_point(self, account_id: uuid.UUID) -> None:
        """The streamer's own music plays again: nothing is to resume."""
        async with self.units.begin() as work:
            await repository.lock_queue(work.session, account_id)
            await repository.clear_resume_point(work.session, account_id)

    async def take_resume_point(self, account_id: uuid.UUID) -> ResumePoint | None:
        """Where to resume the streamer's music, forgotten as it is taken (resumed once)."""
        async with self.units.begin() as work:
            session = work.session
            await repository.lock_queue(session, account_id)
            if await repository.next_queued(session, account_id) is not None:
                return None
            row = await repository.resume_point(session, account_id)
            if row is None or row.resume_context_uri is None:
                return None
            point = ResumePoint(row.resume_context_uri, row.resume_item_uri, row.resume_position_ms)
            await repository.clear_resume_point(session, account_id)
            return point


async def ask_skip(session: AsyncSession, account_id: uuid.UUID, actor: str) -> SongRequest | None:
    """Note who asks to skip the playing request (before Spotify's next): the feeder
    names them as the actor of its ``request:skipped``. Under the caller's queue lock."""
    row = (await repository.in_play(session, account_id)).playing
    if row is not None:
        row.actor, row.updated_at = actor, utcnow()
    return row


def _hand_over(row: SongRequest | None) -> HandOver | None:
    return None if row is None else HandOver(row.id, row.track_uri)


def _duration(row: SongRequest) -> int:
    duration = row.track.get("duration_ms")
    return int(duration) if isinstance(duration, int | float) else 0


def _ended(
    row: SongRequest, previous: Reading | None, reading: Reading, furthest: dict[uuid.UUID, int]
) -> bool:
    """Whether the playing request is over: another item plays, or it went back to its
    start after it had come to its end (the player stops there when nothing follows)."""
    uri = Seen.of(reading).uri
    if uri != row.track_uri:
        return True
    return went_back(previous, reading) and near_end(furthest.get(row.id), _duration(row))


def _played(row: SongRequest, furthest: dict[uuid.UUID, int]) -> bool:
    """Whether the request ended near its end. Not seen by this process (a restart or a
    takeover since it started): judged by the time since it started."""
    duration = _duration(row)
    seen = furthest.get(row.id)
    if seen is not None:
        return near_end(seen, duration)
    if row.started_at is None:
        return False
    elapsed_ms = (utcnow() - row.started_at).total_seconds() * 1000
    return elapsed_ms >= duration - END_TOLERANCE_MS


def _started(row: SongRequest, previous: Reading | None, reading: Reading) -> bool:
    """Whether the request handed over is what plays now (newly come on, or already on
    when this process had seen nothing before)."""
    seen = Seen.of(reading)
    if seen.uri != row.track_uri:
        return False
    return previous is None or item_changed(previous, reading) or went_back(previous, reading)


def _start(row: SongRequest) -> None:
    now = utcnow()
    row.state, row.started_at, row.updated_at, row.actor = "playing", now, now, FEEDER.label


async def _end(work: UnitOfWork, row: SongRequest, *, played: bool) -> None:
    now = utcnow()
    asked = _skip_asker(row)
    row.state = "played" if played else "skipped"
    row.ended_at, row.updated_at = now, now
    event = EventType.REQUEST_PLAYED if played else EventType.REQUEST_SKIPPED
    actor = FEEDER if played or asked is None else asked
    row.actor = actor.label
    await _record(work, row, event, actor)


def _skip_asker(row: SongRequest) -> Actor | None:
    """Who asked to skip the request (``ask_skip``), if anyone did since it started."""
    started: datetime | None = row.started_at
    if row.actor in (None, FEEDER.label) or started is None or row.updated_at <= started:
        return None
    return Actor(key_id=None, label=str(row.actor), kind="moderator")


async def _record(work: UnitOfWork, row: SongRequest, event: EventType, actor: Actor) -> None:
    track = row.track
    await record_event(
        work,
        account_id=row.account_id,
        event_type=event,
        actor=actor,
        params={
            "request_id": str(row.id),
            "viewer": row.viewer_name,
            "state": row.state,
            "reason": row.reason,
        },
        track=TrackSnapshot(
            name=str(track.get("name", "")),
            artists=[str(a) for a in track.get("artists", [])],
            album=track.get("album"),
            art_url=track.get("album_art_url"),
            uri=row.track_uri,
            duration_ms=_duration(row) or None,
        ),
    )
