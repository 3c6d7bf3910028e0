"""What moderators do to the queue (``requests:moderate``), and a viewer's ``!wrongsong``.

Each operation takes the account's queue lock first (``repository.lock_queue``), checks
the request it names is the caller's account's and in a state that allows the change
(404 / 409 otherwise), changes it and records one ``request:*`` event with the caller as
actor, all in one unit of work.
"""

from __future__ import annotations

import uuid

from pydantic import ValidationError

from tunedeck.accounts.context import authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.events.types import EventType
from tunedeck.kit.db import utcnow
from tunedeck.kit.errors import Conflict, ValidationFailed, invalid_input
from tunedeck.kit.unit_of_work import UnitOfWork
from tunedeck.player.context import perform
from tunedeck.requests import repository
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.identity import login_key, viewer_key
from tunedeck.requests.models import RequestBan, SongRequest
from tunedeck.requests.present import request_out
from tunedeck.requests.reads import not_found, shown
from tunedeck.requests.reasons import SENTENCES, Reason
from tunedeck.requests.recording import record_change
from tunedeck.requests.schemas import (
    WAITING,
    BanIn,
    BanOut,
    ClearedOut,
    RequestOut,
    SettingsDocument,
    SettingsOut,
    State,
)
from tunedeck.requests.settings import RequestSettings
from tunedeck.requests.text import bounded
from tunedeck.requests.viewers import Viewer
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.models import Playback

MODERATE = Permission.REQUESTS_MODERATE


class NotWaiting(Conflict):
    """The request is no longer waiting (sent, playing or ended): it cannot be changed."""

    code = "request_not_waiting"


class NotPending(Conflict):
    """Only a pending request can be approved."""

    code = "request_not_pending"


async def _waiting(work: UnitOfWork, ctx: RequestsContext, request_id: uuid.UUID) -> SongRequest:
    row = await repository.get(work.session, ctx.account_id, request_id)
    if row is None:
        raise not_found(request_id)
    if row.state not in WAITING:
        raise NotWaiting(f"request {request_id} is {row.state}: only waiting requests change")
    return row


def _end(row: SongRequest, state: State, reason: Reason, text: str, actor: str) -> None:
    now = utcnow()
    row.state = state.value
    row.reason = reason.value
    row.reason_text = text
    row.actor = actor
    row.updated_at = now
    row.ended_at = now


async def _ended(
    ctx: RequestsContext, request_id: uuid.UUID, state: State, reason: Reason, text: str
) -> RequestOut:
    event = EventType.REQUEST_REJECTED if state is State.REJECTED else EventType.REQUEST_REMOVED
    async with ctx.begin() as work:
        await repository.lock_queue(work.session, ctx.account_id)
        row = await _waiting(work, ctx, request_id)
        _end(row, state, reason, text, ctx.principal.label)
        await work.session.flush()
        out = request_out(row)
        await record_change(work, ctx, event, out)
    return out


async def approve(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """A pending request becomes queued (``request:approved``)."""
    authorize(ctx, MODERATE)
    async with ctx.begin() as work:
        await repository.lock_queue(work.session, ctx.account_id)
        row = await _waiting(work, ctx, request_id)
        if row.state != State.PENDING.value:
            raise NotPending(f"request {request_id} is {row.state}, not pending")
        now = utcnow()
        row.state = State.QUEUED.value
        row.approved_at = row.updated_at = now
        row.actor = ctx.principal.label
        await work.session.flush()
        out = await shown(ctx, work.session, row)
        await record_change(work, ctx, EventType.REQUEST_APPROVED, out)
    return out


async def reject(ctx: RequestsContext, request_id: uuid.UUID, reason: str | None) -> RequestOut:
    """A waiting request is turned down, with the moderator's reason (``request:rejected``)."""
    authorize(ctx, MODERATE)
    text = bounded(reason or "", 300) or SENTENCES[Reason.REJECTED]
    return await _ended(ctx, request_id, State.REJECTED, Reason.REJECTED, text)


async def remove(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """A waiting request leaves the queue (``request:removed``)."""
    authorize(ctx, MODERATE)
    return await _ended(ctx, request_id, State.REMOVED, Reason.REMOVED, SENTENCES[Reason.REMOVED])


async def move(ctx: RequestsContext, request_id: uuid.UUID, position: int) -> RequestOut:
    """A waiting request goes to ``position`` (1-based among those waiting; past the end:
    last) (``request:moved``)."""
    authorize(ctx, MODERATE)
    if position < 1:
        raise invalid_input("position", "must be at least 1")
    async with ctx.begin() as work:
        await repository.lock_queue(work.session, ctx.account_id)
        row = await _waiting(work, ctx, request_id)
        others = [
            r for r in await repository.waiting(work.session, ctx.account_id) if r.id != row.id
        ]
        index = min(position, len(others) + 1) - 1
        await _place(work, row, others, index)
        row.updated_at = utcnow()
        row.actor = ctx.principal.label
        await work.session.flush()
        out = await shown(ctx, work.session, row)
        await record_change(work, ctx, EventType.REQUEST_MOVED, out, position=out.position)
    return out


async def _place(work: UnitOfWork, row: SongRequest, others: list[SongRequest], index: int) -> None:
    """Give ``row`` a rank between its new neighbours (renumbering all when no gap is left)."""
    before = others[index - 1].rank if index > 0 else 0
    after = others[index].rank if index < len(others) else before + 2 * repository.RANK_STEP
    if after - before > 1:
        row.rank = (before + after) // 2
        return
    await repository.renumber(work.session, [*others[:index], row, *others[index:]])


async def promote(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """A waiting request goes first: it plays next (``request:moved``)."""
    return await move(ctx, request_id, 1)


async def skip(ctx: RequestsContext) -> RequestOut | None:
    """Skip the request playing now (Spotify's next; the feeder then sees it end and marks
    it skipped). None when no request is playing (nothing is skipped)."""
    authorize(ctx, MODERATE)
    async with ctx.begin() as work:
        playing = await repository.in_state(work.session, ctx.account_id, [State.PLAYING.value])
    if not playing:
        return None

    async def command(client: SpotifyClient, _before: Playback | None) -> dict[str, object]:
        await client.next()
        return {"request_id": str(playing[0].id)}

    await perform(ctx, action="next", event_type=EventType.SKIP, command=command)
    return request_out(playing[0])


def _ban_target(request: BanIn) -> str:
    if request.id:
        return request.id
    if request.login:
        return login_key(request.login)
    raise invalid_input("id", "give the viewer's id or login")


def ban_out(ban: RequestBan) -> BanOut:
    return BanOut(
        platform=ban.viewer_platform,
        id=ban.viewer_id,
        login=ban.viewer_login,
        display_name=ban.viewer_name,
        reason=ban.reason,
        actor=ban.actor,
        created_at=ban.created_at,
    )


async def ban(ctx: RequestsContext, request: BanIn) -> BanOut:
    """Ban a viewer, removing their waiting requests when asked (``request:banned``)."""
    authorize(ctx, MODERATE)
    target = _ban_target(request)
    login = request.login.lower().lstrip("@") if request.login else None
    row = RequestBan(
        account_id=ctx.account_id,
        viewer_platform=request.platform.lower(),
        viewer_id=target,
        viewer_login=login,
        viewer_name=bounded(request.display_name or request.login or target, 100) or target,
        reason=bounded(request.reason, 300) if request.reason else None,
        actor=ctx.principal.label,
        created_at=utcnow(),
    )
    async with ctx.begin() as work:
        await repository.lock_queue(work.session, ctx.account_id)
        await repository.add_ban(work.session, row)
        removed: list[uuid.UUID] = []
        if request.remove_waiting:
            ids = {target} | ({login_key(login)} if login else set())
            match = repository.ViewerMatch(row.viewer_platform, frozenset(ids), login)
            removed = await repository.end_waiting(
                work.session,
                ctx.account_id,
                state=State.REMOVED.value,
                reason=Reason.REMOVED.value,
                reason_text=SENTENCES[Reason.REMOVED],
                actor=ctx.principal.label,
                viewer=match,
            )
        out = ban_out(row)
        await record_change(
            work,
            ctx,
            EventType.REQUEST_BANNED,
            None,
            viewer=out.model_dump(mode="json"),
            removed=[str(request_id) for request_id in removed],
        )
    return out


async def unban(ctx: RequestsContext, platform: str, viewer_id: str) -> bool:
    """Lift a ban (``request:unbanned``); False when the viewer was not banned."""
    authorize(ctx, MODERATE)
    async with ctx.begin() as work:
        await repository.lock_queue(work.session, ctx.account_id)
        lifted = await repository.remove_ban(
            work.session, ctx.account_id, platform.lower(), viewer_id
        )
        if lifted:
            viewer = {"platform": platform.lower(), "id": viewer_id}
            await record_change(work, ctx, EventType.REQUEST_UNBANNED, None, viewer=viewer)
    return lifted


async def list_bans(ctx: RequestsContext) -> list[BanOut]:
    """The channel's banned viewers, newest first."""
    authorize(ctx, Permission.REQUESTS_READ)
    async with ctx.begin() as work:
        return [ban_out(row) for row in await repository.bans(work.session, ctx.account_id)]


async def get_settings(ctx: RequestsContext) -> SettingsOut:
    """The channel's settings (the defaults until changed)."""
    authorize(ctx, Permission.REQUESTS_READ)
    async with ctx.begin() as work:
        locked = await repository.read_settings(work.session, ctx.account_id)
    return SettingsOut(settings=locked.settings, version=locked.version)


async def _store_settings(
    ctx: RequestsContext, changes: SettingsDocument | None, **fields: object
) -> SettingsOut:
    """Under the lock: the settings replaced by ``changes`` (whole) or updated by ``fields``."""
    async with ctx.begin() as work:
        locked = await repository.lock_queue(work.session, ctx.account_id)
        document = changes if changes is not None else locked.settings.model_dump(mode="json")
        settings = _validated({**document, **fields})
        await repository.write_settings(work.session, ctx.account_id, settings)
        await record_change(
            work,
            ctx,
            EventType.REQUEST_SETTINGS,
            None,
            open=settings.open,
            message=settings.closed_message,
            rules_changed=changes is not None,
        )
    return SettingsOut(settings=settings, version=locked.version)


def _validated(document: SettingsDocument) -> RequestSettings:
    """The settings ``document`` describes, or a 422 naming the first field at fault."""
    try:
        return RequestSettings.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed.of_pydantic(exc) from None


async def open_requests(ctx: RequestsContext) -> SettingsOut:
    """Open requests (``request:settings``)."""
    authorize(ctx, MODERATE)
    return await _store_settings(ctx, None, open=True)


async def close_requests(ctx: RequestsContext, message: str | None) -> SettingsOut:
    """Close requests; viewers read ``message`` (``request:settings``)."""
    authorize(ctx, MODERATE)
    return await _store_settings(ctx, None, open=False, closed_message=message or "")


async def update_settings(ctx: RequestsContext, document: SettingsDocument) -> SettingsOut:
    """Replace the settings with ``document`` (validated; a 422 names the first field at
    fault) (``request:settings``)."""
    authorize(ctx, MODERATE)
    _validated(document)  # refused before the lock is taken
    return await _store_settings(ctx, document)


async def clear(ctx: RequestsContext) -> ClearedOut:
    """Remove every waiting request (reason ``cleared``; ``request:cleared``)."""
    authorize(ctx, MODERATE)
    async with ctx.begin() as work:
        await repository.lock_queue(work.session, ctx.account_id)
        removed = await repository.end_waiting(
            work.session,
            ctx.account_id,
            state=State.REMOVED.value,
            reason=Reason.CLEARED.value,
            reason_text=SENTENCES[Reason.CLEARED],
            actor=ctx.principal.label,
        )
        await record_change(
            work, ctx, EventType.REQUEST_CLEARED, None, removed=[str(i) for i in removed]
        )
    return ClearedOut(removed=len(removed))


async def withdraw_last(ctx: RequestsContext, viewer: Viewer) -> RequestOut | None:
    """``!wrongsong``: the viewer's latest waiting request, removed (reason ``withdrawn``);
    None when they have none waiting."""
    authorize(ctx, Permission.REQUESTS_SUBMIT)
    key = viewer_key(viewer)
    async with ctx.begin() as work:
        await repository.lock_queue(work.session, ctx.account_id)
        mine = await repository.viewer_waiting(work.session, ctx.account_id, key.platform, key.id)
        if not mine:
            return None
        row = mine[-1]
        text = SENTENCES[Reason.WITHDRAWN]
        _end(row, State.REMOVED, Reason.WITHDRAWN, text, ctx.principal.label)
        await work.session.flush()
        out = request_out(row)
        await record_change(work, ctx, EventType.REQUEST_REMOVED, out)
    return out
