"""Playback actions: control, queue add and transfer; each acts once and records one event.

Inputs arrive validated (``player.inputs``); reads live in ``player.reads``.
"""

from __future__ import annotations

from typing import Any

from tunedeck.accounts.context import authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.events.schemas import VolumeParams
from tunedeck.events.types import EventType
from tunedeck.kit.errors import Conflict
from tunedeck.player.context import PlayerContext, perform
from tunedeck.player.inputs import PlaybackAction, PlaybackIn, QueueIn, RepeatMode, TransferIn
from tunedeck.player.schemas import ActionOut
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.models import Playback

PLAYBACK = Permission.SPOTIFY_PLAYBACK


class NotInQueue(Conflict):
    """skip_to named a track that is not (or no longer) in the queue (409)."""

    code = "not_in_queue"


async def control(ctx: PlayerContext, command: PlaybackIn) -> ActionOut:
    """Run one playback command (validated by its model) as its operation."""
    authorize(ctx, PLAYBACK)
    device = command.device_id
    match command.action:
        case PlaybackAction.PLAY:
            return await play(
                ctx,
                uri=command.uri,
                context_uri=command.context_uri,
                offset_uri=command.offset_uri,
                device=device,
            )
        case PlaybackAction.PAUSE:
            return await pause(ctx, device=device)
        case PlaybackAction.NEXT:
            return await next_track(ctx, device=device)
        case PlaybackAction.PREVIOUS:
            return await previous(ctx, device=device)
        case PlaybackAction.SKIP_TO:
            assert command.uri is not None  # the model requires it for skip_to
            return await skip_to(ctx, command.uri, device=device)
        case PlaybackAction.SEEK:
            assert command.position_ms is not None
            return await seek(ctx, command.position_ms, device=device)
        case PlaybackAction.VOLUME:
            assert command.volume_percent is not None
            return await volume(ctx, command.volume_percent, device=device)
        case PlaybackAction.SHUFFLE:
            assert command.state is not None
            return await shuffle(ctx, command.state, device=device)
        case PlaybackAction.REPEAT:
            assert command.mode is not None
            return await repeat(ctx, command.mode, device=device)


async def play(
    ctx: PlayerContext,
    *,
    uri: str | None = None,
    context_uri: str | None = None,
    offset_uri: str | None = None,
    device: str | None = None,
) -> ActionOut:
    """Play a track, a context (from ``offset_uri`` or ``uri`` within it), or resume."""
    authorize(ctx, PLAYBACK)
    start_at = offset_uri or uri
    given = {"uri": uri, "context_uri": context_uri, "offset_uri": offset_uri}
    params: dict[str, Any] = {name: value for name, value in given.items() if value}

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        if context_uri:
            await spotify_client.play(
                context_uri=context_uri, offset_uri=start_at, device_id=device
            )
        elif uri:
            await spotify_client.play(uris=[uri], device_id=device)
        else:
            await spotify_client.play(device_id=device)
        return params

    return await perform(ctx, action="play", event_type=EventType.PLAY, command=command)


async def pause(ctx: PlayerContext, *, device: str | None = None) -> ActionOut:
    authorize(ctx, PLAYBACK)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.pause(device_id=device)
        return {}

    return await perform(ctx, action="pause", event_type=EventType.PAUSE, command=command)


async def next_track(ctx: PlayerContext, *, device: str | None = None) -> ActionOut:
    authorize(ctx, PLAYBACK)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.next(device_id=device)
        return {}

    return await perform(ctx, action="next", event_type=EventType.SKIP, command=command)


async def previous(ctx: PlayerContext, *, device: str | None = None) -> ActionOut:
    authorize(ctx, PLAYBACK)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.previous(device_id=device)
        return {}

    return await perform(ctx, action="previous", event_type=EventType.PREVIOUS, command=command)


async def skip_to(ctx: PlayerContext, uri: str, *, device: str | None = None) -> ActionOut:
    """Jump to a queued track, as Spotify's own client does when one clicks it.

    The Web API has no "skip to" command, so this skips forward (``next``) until the
    track plays: what comes before it in the queue is consumed, and everything after
    it (the rest of the user queue, then the context) stays as it was. Playing the
    track directly (``play`` with its uri) would be one call, but it replaces the
    context: the playlist or album would no longer follow. The queue view lists at
    most 20 items, which bounds the skips. A failure half-way leaves the player
    somewhere before the track; no event is recorded for an action that failed.
    """
    authorize(ctx, PLAYBACK)
    target = uri

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        queue = await spotify_client.queue()
        position = next((i for i, item in enumerate(queue.queue) if item.uri == target), None)
        if position is None:
            raise NotInQueue(f"{target} is not in the queue (it may have played already)")
        # Sequential on purpose: each skip must land before the next one is sent.
        for _ in range(position + 1):
            await spotify_client.next(device_id=device)
        return {"to_uri": target, "skipped": position + 1}

    return await perform(ctx, action="skip_to", event_type=EventType.SKIP, command=command)


async def seek(ctx: PlayerContext, position: int, *, device: str | None = None) -> ActionOut:
    authorize(ctx, PLAYBACK)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.seek(position, device_id=device)
        return {"position_ms": position}

    return await perform(ctx, action="seek", event_type=EventType.SEEK, command=command)


async def volume(ctx: PlayerContext, percent: int, *, device: str | None = None) -> ActionOut:
    """Set the volume; the event has the volume before (from the playback) and after."""
    authorize(ctx, PLAYBACK)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.set_volume(percent, device_id=device)
        return VolumeParams(old_volume=_volume_of(before, device), new_volume=percent).model_dump()

    return await perform(ctx, action="volume", event_type=EventType.VOLUME, command=command)


def _volume_of(playback: Playback | None, device: str | None) -> int | None:
    """The volume of the device about to change, when the playback shows it."""
    active = playback.device if playback else None
    if active is None or (device is not None and active.id != device):
        return None
    return active.volume_percent


async def shuffle(ctx: PlayerContext, on: bool, *, device: str | None = None) -> ActionOut:
    authorize(ctx, PLAYBACK)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.set_shuffle(on, device_id=device)
        return {"state": on}

    return await perform(ctx, action="shuffle", event_type=EventType.SHUFFLE, command=command)


async def repeat(
    ctx: PlayerContext, checked: RepeatMode, *, device: str | None = None
) -> ActionOut:
    authorize(ctx, PLAYBACK)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.set_repeat(checked, device_id=device)
        return {"mode": checked}

    return await perform(ctx, action="repeat", event_type=EventType.REPEAT, command=command)


# ---- queue and devices ---------------------------------------------------------------


async def add_to_queue(ctx: PlayerContext, request: QueueIn) -> ActionOut:
    authorize(ctx, Permission.SPOTIFY_QUEUE)
    track = request.uri

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.add_to_queue(track)
        return {"uri": track}

    return await perform(
        ctx,
        action="queue_add",
        event_type=EventType.QUEUE_ADD,
        command=command,
    )


async def transfer(ctx: PlayerContext, request: TransferIn) -> ActionOut:
    """Move playback to a device (``play``: start playing there)."""
    authorize(ctx, Permission.SPOTIFY_DEVICE)
    target, play = request.device_id, request.play

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.transfer_playback(target, play=play)
        params: dict[str, Any] = {"device_id": target, "play": play}
        name = _device_name(ctx, target)
        if name is not None:
            params["device_name"] = name
        return params

    return await perform(
        ctx,
        action="transfer",
        event_type=EventType.DEVICE,
        command=command,
    )


def _device_name(ctx: PlayerContext, device_id: str) -> str | None:
    """The device's name if a fresh state knows it (no extra Spotify call for a label)."""
    parts = ctx.cache.fresh(ctx.account_id)
    for device in (parts.devices if parts else None) or []:
        if device.id == device_id:
            return device.name
    return None
