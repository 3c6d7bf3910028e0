"""All SQL of song requests: the queue lock, the counts the rules need, the queue's order
(also used by the feeder: :func:`next_queued`, :func:`in_state`), bans and settings.

Order: a request's ``rank`` (sparse: :data:`RANK_STEP` apart, so a move usually writes one
row), then its creation. "Waiting" is pending or queued; the queue shows what is sent and
playing first.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.kit.db import utcnow
from tunedeck.requests.models import RequestBan, RequestSettingsRow, SongRequest
from tunedeck.requests.schemas import WAITING, State
from tunedeck.requests.settings import RequestSettings

RANK_STEP = 1024
"""The gap left between two requests' ranks, so a move fits between them."""
SQLITE_LOCK_ATTEMPTS = 4
"""How many times the queue lock is asked for on SQLite before its busy error stands."""

_WAITING = [state.value for state in WAITING]
_AHEAD = [State.PLAYING.value, State.SENT.value]  # shown before those waiting, in this order


@dataclass(frozen=True, slots=True)
class Locked:
    """The account's settings as read under its queue lock, and the lock's new version."""

    settings: RequestSettings
    version: int


def default_settings_document() -> dict[str, Any]:
    """The settings of a channel that never changed them, as stored."""
    return RequestSettings().model_dump(mode="json")


def _insert_for(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def ensure_settings(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Create the account's settings row with the defaults unless it exists (two callers
    at once both succeed: the second does nothing)."""
    statement = _insert_for(session)(RequestSettingsRow).values(
        account_id=account_id, version=0, settings=default_settings_document(), updated_at=utcnow()
    )
    await session.execute(statement.on_conflict_do_nothing(index_elements=["account_id"]))


async def lock_queue(session: AsyncSession, account_id: uuid.UUID) -> Locked:
    """Take the account's queue lock for the rest of the unit of work (the first statement
    of it: on SQLite a transaction that read first could not take the write lock) and read
    its settings. Every change to the queue or the settings goes through here."""
    bump = (
        update(RequestSettingsRow)
        .where(RequestSettingsRow.account_id == account_id)
        .values(version=RequestSettingsRow.version + 1)
        .returning(RequestSettingsRow.settings, RequestSettingsRow.version)
    )
    row = (await _bump(session, bump)).first()
    if row is None:
        await ensure_settings(session, account_id)
        row = (await session.execute(bump)).one()
    return Locked(RequestSettings.model_validate(row[0]), int(row[1]))


async def _bump(session: AsyncSession, bump: Any) -> Any:
    """Run the lock's statement, again when SQLite's busy timeout ran out first: in a
    raid, the writers ahead can outlast it, and nothing is written before the lock (it is
    the unit of work's first statement), so asking again is safe."""
    for _ in range(SQLITE_LOCK_ATTEMPTS - 1):
        try:
            return await session.execute(bump)
        except OperationalError as exc:
            if "database is locked" not in str(exc.orig):
                raise
    return await session.execute(bump)


async def read_settings(session: AsyncSession, account_id: uuid.UUID) -> Locked:
    """The account's settings without the lock (the defaults when never set)."""
    row = (
        await session.execute(
            select(RequestSettingsRow.settings, RequestSettingsRow.version).where(
                RequestSettingsRow.account_id == account_id
            )
        )
    ).first()
    if row is None:
        return Locked(RequestSettings(), 0)
    return Locked(RequestSettings.model_validate(row[0]), int(row[1]))


async def write_settings(
    session: AsyncSession, account_id: uuid.UUID, settings: RequestSettings
) -> None:
    """Store the settings (under the lock, taken first)."""
    await session.execute(
        update(RequestSettingsRow)
        .where(RequestSettingsRow.account_id == account_id)
        .values(settings=settings.model_dump(mode="json"), updated_at=utcnow())
    )


# ---- facts for the rules ---------------------------------------------------------------


def _of_viewer(account_id: uuid.UUID, platform: str, viewer_id: str) -> Any:
    return (
        (SongRequest.account_id == account_id)
        & (SongRequest.viewer_platform == platform)
        & (SongRequest.viewer_id == viewer_id)
    )


async def viewer_counts(
    session: AsyncSession, account_id: uuid.UUID, platform: str, viewer_id: str
) -> tuple[int, datetime | None]:
    """How many of the viewer's requests wait, and when they last made one."""
    waiting = await session.scalar(
        select(func.count())
        .select_from(SongRequest)
        .where(_of_viewer(account_id, platform, viewer_id), SongRequest.state.in_(_WAITING))
    )
    last = await session.scalar(
        select(func.max(SongRequest.created_at)).where(_of_viewer(account_id, platform, viewer_id))
    )
    return int(waiting or 0), last


async def is_banned(
    session: AsyncSession, account_id: uuid.UUID, platform: str, viewer_ids: Collection[str]
) -> bool:
    """Whether the viewer (known by any of ``viewer_ids``) is banned on the channel."""
    found = await session.scalar(
        select(func.count())
        .select_from(RequestBan)
        .where(
            RequestBan.account_id == account_id,
            RequestBan.viewer_platform == platform,
            RequestBan.viewer_id.in_(list(viewer_ids)),
        )
    )
    return bool(found)


async def waiting_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(SongRequest)
        .where(SongRequest.account_id == account_id, SongRequest.state.in_(_WAITING))
    )
    return int(count or 0)


async def queued_uris(session: AsyncSession, account_id: uuid.UUID) -> frozenset[str]:
    """The songs waiting, sent or playing (a duplicate of one is refused)."""
    rows = await session.scalars(
        select(SongRequest.track_uri).where(
            SongRequest.account_id == account_id,
            SongRequest.state.in_([*_WAITING, *_AHEAD]),
        )
    )
    return frozenset(rows)


async def played_since(
    session: AsyncSession, account_id: uuid.UUID, since: datetime
) -> dict[str, datetime]:
    """When each requested song that started playing since ``since`` last started."""
    rows = await session.execute(
        select(SongRequest.track_uri, func.max(SongRequest.started_at))
        .where(SongRequest.account_id == account_id, SongRequest.started_at >= since)
        .group_by(SongRequest.track_uri)
    )
    return {uri: at for uri, at in rows if at is not None}


# ---- the queue -------------------------------------------------------------------------


async def add(session: AsyncSession, request: SongRequest) -> None:
    """Store a new request (its rank set by the caller, under the lock)."""
    session.add(request)
    await session.flush()


async def last_rank(session: AsyncSession, account_id: uuid.UUID) -> int:
    """The rank after which a new request goes: the last waiting one's (0 when none)."""
    rank = await session.scalar(
        select(func.max(SongRequest.rank)).where(
            SongRequest.account_id == account_id, SongRequest.state.in_(_WAITING)
        )
    )
    return int(rank or 0)


async def get(
    session: AsyncSession, account_id: uuid.UUID, request_id: uuid.UUID
) -> SongRequest | None:
    """One request of the account (None for another account's)."""
    return await session.scalar(
        select(SongRequest).where(
            SongRequest.id == request_id, SongRequest.account_id == account_id
        )
    )


def _ordered() -> tuple[Any, ...]:
    return (SongRequest.rank, SongRequest.created_at, SongRequest.id)


async def waiting(session: AsyncSession, account_id: uuid.UUID) -> list[SongRequest]:
    """The requests waiting (pending and queued), in order."""
    rows = await session.scalars(
        select(SongRequest)
        .where(SongRequest.account_id == account_id, SongRequest.state.in_(_WAITING))
        .order_by(*_ordered())
    )
    return list(rows)


async def in_state(
    session: AsyncSession, account_id: uuid.UUID, states: Collection[str]
) -> list[SongRequest]:
    """The account's requests in ``states``, in queue order (the feeder's "what was sent",
    "what is playing")."""
    rows = await session.scalars(
        select(SongRequest)
        .where(SongRequest.account_id == account_id, SongRequest.state.in_(list(states)))
        .order_by(*_ordered())
    )
    return list(rows)


async def next_queued(session: AsyncSession, account_id: uuid.UUID) -> SongRequest | None:
    """The request to hand to Spotify next: the first queued (pending ones wait for
    approval and are passed over)."""
    return await session.scalar(
        select(SongRequest)
        .where(SongRequest.account_id == account_id, SongRequest.state == State.QUEUED.value)
        .order_by(*_ordered())
        .limit(1)
    )


async def in_queue(session: AsyncSession, account_id: uuid.UUID) -> list[SongRequest]:
    """The queue as shown: playing, sent, then waiting in order."""
    ahead = await in_state(session, account_id, _AHEAD)
    ahead.sort(key=lambda row: _AHEAD.index(row.state))
    return ahead + await waiting(session, account_id)


async def viewer_waiting(
    session: AsyncSession, account_id: uuid.UUID, platform: str, viewer_id: str
) -> list[SongRequest]:
    """The viewer's requests waiting, oldest first."""
    rows = await session.scalars(
        select(SongRequest)
        .where(_of_viewer(account_id, platform, viewer_id), SongRequest.state.in_(_WAITING))
        .order_by(SongRequest.created_at, SongRequest.id)
    )
    return list(rows)


async def renumber(session: AsyncSession, ordered: Sequence[SongRequest]) -> None:
    """Give ``ordered`` fresh ranks, :data:`RANK_STEP` apart, in this order."""
    for index, row in enumerate(ordered, start=1):
        row.rank = index * RANK_STEP
    await session.flush()


@dataclass(frozen=True, slots=True)
class ViewerMatch:
    """One viewer's requests: by any of their identities, or by their login."""

    platform: str
    ids: frozenset[str]
    login: str | None = None

    def condition(self) -> Any:
        known: ColumnElement[bool] = SongRequest.viewer_id.in_(sorted(self.ids))
        if self.login is not None:
            known = or_(known, func.lower(SongRequest.viewer_login) == self.login.lower())
        return (SongRequest.viewer_platform == self.platform) & known


async def end_waiting(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    state: str,
    reason: str,
    reason_text: str,
    actor: str,
    viewer: ViewerMatch | None = None,
) -> list[uuid.UUID]:
    """End every waiting request (of one viewer, when given); their ids."""
    condition = [SongRequest.account_id == account_id, SongRequest.state.in_(_WAITING)]
    if viewer is not None:
        condition.append(viewer.condition())
    now = utcnow()
    ended = await session.scalars(
        update(SongRequest)
        .where(*condition)
        .values(
            state=state,
            reason=reason,
            reason_text=reason_text,
            actor=actor,
            updated_at=now,
            ended_at=now,
        )
        .returning(SongRequest.id)
        .execution_options(synchronize_session=False)
    )
    return list(ended)


# ---- history ---------------------------------------------------------------------------


async def history(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    states: Collection[str] | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[SongRequest]:
    """Requests newest first (created before ``before`` when given), ``limit`` of them."""
    query = select(SongRequest).where(SongRequest.account_id == account_id)
    if states:
        query = query.where(SongRequest.state.in_(list(states)))
    if before is not None:
        at, request_id = before
        query = query.where(
            or_(
                SongRequest.created_at < at,
                (SongRequest.created_at == at) & (SongRequest.id < request_id),
            )
        )
    rows = await session.scalars(
        query.order_by(SongRequest.created_at.desc(), SongRequest.id.desc()).limit(limit)
    )
    return list(rows)


# ---- bans ------------------------------------------------------------------------------


async def add_ban(session: AsyncSession, ban: RequestBan) -> RequestBan:
    """Ban a viewer (a ban already there is replaced: its reason and actor are the new)."""
    await session.execute(
        delete(RequestBan).where(
            tuple_(RequestBan.account_id, RequestBan.viewer_platform, RequestBan.viewer_id)
            == tuple_(ban.account_id, ban.viewer_platform, ban.viewer_id)
        )
    )
    await session.execute(
        insert(RequestBan).values(
            account_id=ban.account_id,
            viewer_platform=ban.viewer_platform,
            viewer_id=ban.viewer_id,
            viewer_login=ban.viewer_login,
            viewer_name=ban.viewer_name,
            reason=ban.reason,
            actor=ban.actor,
            created_at=ban.created_at,
        )
    )
    return ban


async def remove_ban(
    session: AsyncSession, account_id: uuid.UUID, platform: str, viewer_id: str
) -> bool:
    """Lift a ban; whether there was one."""
    removed = await session.scalars(
        delete(RequestBan)
        .where(
            RequestBan.account_id == account_id,
            RequestBan.viewer_platform == platform,
            RequestBan.viewer_id == viewer_id,
        )
        .returning(RequestBan.viewer_id)
    )
    return bool(list(removed))


async def bans(session: AsyncSession, account_id: uuid.UUID) -> list[RequestBan]:
    rows = await session.scalars(
        select(RequestBan)
        .where(RequestBan.account_id == account_id)
        .order_by(RequestBan.created_at.desc(), RequestBan.viewer_id)
    )
    return list(rows)


def recent_window(now: datetime, minutes: int) -> datetime:
    return now - timedelta(minutes=minutes)
