"""Playback control, the queue and devices: each operation validates, then acts once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tunedeck.accounts.permissions import Permission
from tunedeck.events.schemas import VolumeParams
from tunedeck.events.types import EventType
from tunedeck.kit.errors import Conflict
from tunedeck.player import validation as check
from tunedeck.player.context import PlayerContext, authorize, client, perform, spotify
from tunedeck.player.schemas import ActionOut, DeviceOut, PlaybackAction, QueueOut
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.models import Playback

PLAYBACK = Permission.SPOTIFY_PLAYBACK


@dataclass(frozen=True, slots=True)
class PlaybackCommand:
    """One ``POST /playback`` / ``spotifyPlayback`` request, before validation."""

    action: PlaybackAction
    uri: object | None = None
    context_uri: object | None = None
    position_ms: object | None = None
    volume_percent: object | None = None
    state: object | None = None
    mode: object | None = None
    device_id: object | None = None


class NotInQueue(Conflict):
    """skip_to named a track that is not (or no longer) in the queue (409)."""

    code = "not_in_queue"


async def control(ctx: PlayerContext, command: PlaybackCommand) -> ActionOut:
    """Dispatch a playback command to its operation (each validates its own fields)."""
    authorize(ctx, PLAYBACK)
    device = None if command.device_id is None else check.device_id(command.device_id)
    match command.action:
        case "play":
            return await play(ctx, uri=command.uri, context_uri=command.context_uri, device=device)
        case "pause":
            return await pause(ctx, device=device)
        case "next":
            return await next_track(ctx, device=device)
        case "previous":
            return await previous(ctx, device=device)
        case "skip_to":
            return await skip_to(ctx, command.uri, device=device)
        case "seek":
            return await seek(ctx, command.position_ms, device=device)
        case "volume":
            return await volume(ctx, command.volume_percent, device=device)
        case "shuffle":
            return await shuffle(ctx, command.state, device=device)
        case "repeat":
            return await repeat(ctx, command.mode, device=device)
    raise check.InvalidInput("action", f"unknown action {command.action!r}")


async def play(
    ctx: PlayerContext,
    *,
    uri: object | None = None,
    context_uri: object | None = None,
    device: str | None = None,
) -> ActionOut:
    """Play a track, a context (from ``uri`` within it, when given), or resume."""
    authorize(ctx, PLAYBACK)
    track = None if uri is None else check.track_uri(uri)
    context = None if context_uri is None else check.context_uri(context_uri)
    params: dict[str, Any] = {}
    if track:
        params["uri"] = track
    if context:
        params["context_uri"] = context

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        if context:
            await spotify_client.play(context_uri=context, offset_uri=track, device_id=device)
        elif track:
            await spotify_client.play(uris=[track], device_id=device)
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


async def skip_to(
    ctx: PlayerContext, uri: object | None, *, device: str | None = None
) -> ActionOut:
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
    target = check.track_uri(uri)

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


async def seek(
    ctx: PlayerContext, position_ms: object | None, *, device: str | None = None
) -> ActionOut:
    authorize(ctx, PLAYBACK)
    position = check.position(position_ms)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.seek(position, device_id=device)
        return {"position_ms": position}

    return await perform(ctx, action="seek", event_type=EventType.SEEK, command=command)


async def volume(
    ctx: PlayerContext, volume_percent: object | None, *, device: str | None = None
) -> ActionOut:
    """Set the volume; the event has the volume before (from the playback) and after."""
    authorize(ctx, PLAYBACK)
    percent = check.volume(volume_percent)

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


async def shuffle(
    ctx: PlayerContext, state: object | None, *, device: str | None = None
) -> ActionOut:
    authorize(ctx, PLAYBACK)
    on = check.shuffle_state(state)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.set_shuffle(on, device_id=device)
        return {"state": on}

    return await perform(ctx, action="shuffle", event_type=EventType.SHUFFLE, command=command)


async def repeat(
    ctx: PlayerContext, mode: object | None, *, device: str | None = None
) -> ActionOut:
    authorize(ctx, PLAYBACK)
    checked = check.repeat_mode(mode)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.set_repeat(checked, device_id=device)
        return {"mode": checked}

    return await perform(ctx, action="repeat", event_type=EventType.REPEAT, command=command)


# ---- queue and devices ---------------------------------------------------------------


async def get_queue(ctx: PlayerContext) -> QueueOut:
    authorize(ctx, Permission.SPOTIFY_READ)
    spotify_client = await client(ctx)
    async with spotify():
        return QueueOut.of(await spotify_client.queue())


async def add_to_queue(ctx: PlayerContext, uri: object | None) -> ActionOut:
    authorize(ctx, Permission.SPOTIFY_QUEUE)
    track = check.track_uri(uri)

    async def command(spotify_client: SpotifyClient, before: Playback | None) -> dict[str, Any]:
        await spotify_client.add_to_queue(track)
        return {"uri": track}

    return await perform(
        ctx,
        action="queue_add",
        event_type=EventType.QUEUE_ADD,
        command=command,
    )


async def get_devices(ctx: PlayerContext) -> list[DeviceOut]:
    authorize(ctx, Permission.SPOTIFY_READ)
    spotify_client = await client(ctx)
    async with spotify():
        return [DeviceOut.of(device) for device in await spotify_client.devices()]


async def transfer(
    ctx: PlayerContext, device_id: object | None, *, play: bool = False
) -> ActionOut:
    """Move playback to a device (``play``: start playing there)."""
    authorize(ctx, Permission.SPOTIFY_DEVICE)
    target = check.device_id(device_id)
    if not isinstance(play, bool):
        raise check.InvalidInput("play", "must be true or false")

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
