"""``/v1/me/player/...``: playback state, devices, queue, and every player command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from tunedeck.simulator.catalog import ID_PATTERN
from tunedeck.simulator.errors import SpotifyError, bad_request, json_response
from tunedeck.simulator.playback import Player, PlayerRefusal
from tunedeck.simulator.specs import RepeatMode
from tunedeck.simulator.state import SimulatorState
from tunedeck.simulator.store import Device, User
from tunedeck.simulator.webapi import Ctx, api_route, parse_int

READ_STATE = ("user-read-playback-state",)
READ_CURRENT = ("user-read-currently-playing", "user-read-playback-state")
MODIFY = ("user-modify-playback-state",)
MAX_POSITION_MS = 24 * 3600 * 1000

NO_ACTIVE_DEVICE = SpotifyError(
    404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE"
)


def refused(
    reason: str, message: str = "Player command failed: Restriction violated"
) -> SpotifyError:
    return SpotifyError(403, message, reason)


def _device(user: User, device_id: str) -> Device:
    device = user.devices.get(device_id)
    if device is None:
        raise SpotifyError(404, "Device not found")
    return device


def controllable(ctx: Ctx, *, needs_active: bool = True) -> Player:
    """The user's player, after the checks every command shares (premium, device)."""
    user = ctx.user
    if not user.premium:
        raise refused("PREMIUM_REQUIRED", "Player command failed: Premium required")
    requested = ctx.query("device_id")
    if requested and _device(user, requested).is_restricted:
        raise refused("DEVICE_NOT_CONTROLLABLE")
    player = user.player
    player.settle(ctx.now)
    if needs_active:
        if player.device_id is None:
            raise NO_ACTIVE_DEVICE
        if user.devices[player.device_id].is_restricted:
            raise refused("DEVICE_NOT_CONTROLLABLE")
    return player


@contextmanager
def refusals_as_forbidden() -> Iterator[None]:
    """The engine's refusal of a command as Spotify's 403, with its reason."""
    try:
        yield
    except PlayerRefusal as exc:
        raise refused(exc.reason, exc.message) from None


# -- reading ---------------------------------------------------------------------------


def wants_episodes(ctx: Ctx) -> bool:
    """Whether the request lists ``episode`` in ``additional_types`` (comma-separated)."""
    raw = ctx.query("additional_types") or ""
    return "episode" in (part.strip() for part in raw.split(","))


async def get_playback(ctx: Ctx) -> Response:
    player = ctx.user.player
    player.settle(ctx.now)
    if player.device_id is None:
        return Response(status_code=204)
    return json_response(ctx.render.playback(ctx.user, ctx.now, episodes=wants_episodes(ctx)))


async def get_currently_playing(ctx: Ctx) -> Response:
    player = ctx.user.player
    player.settle(ctx.now)
    if player.device_id is None or player.track_uri is None:
        return Response(status_code=204)
    return json_response(
        ctx.render.currently_playing(ctx.user, ctx.now, episodes=wants_episodes(ctx))
    )


async def get_queue(ctx: Ctx) -> Response:
    player = ctx.user.player
    player.settle(ctx.now)
    if player.device_id is None:
        return json_response({"currently_playing": None, "queue": []})
    return json_response(ctx.render.queue(player))


async def get_devices(ctx: Ctx) -> Response:
    active = ctx.user.player.device_id
    devices = [ctx.render.device(device, active) for device in ctx.user.devices.values()]
    return json_response({"devices": devices})


# -- commands --------------------------------------------------------------------------


async def transfer(ctx: Ctx) -> None:
    body = await ctx.json_body()
    ids = body.get("device_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request("Required field device_ids missing")
    if len(ids) > 1:
        raise bad_request("Only one device id is supported")
    play = body.get("play")
    if play is not None and not isinstance(play, bool):
        raise bad_request("Invalid play")
    player = controllable(ctx, needs_active=False)
    if _device(ctx.user, ids[0]).is_restricted:
        raise refused("DEVICE_NOT_CONTROLLABLE")
    player.transfer(ctx.now, ids[0], play)


def playable_uri(sim: SimulatorState, uri: object) -> str:
    """A well-formed track or episode uri of the catalog: else 400 (malformed) or 404."""
    text = uri if isinstance(uri, str) else ""
    kind, _, ident = text.removeprefix("spotify:").partition(":")
    if not text.startswith("spotify:") or kind not in ("track", "episode"):
        raise bad_request(f"Invalid track uri: {uri}")
    if not ID_PATTERN.match(ident):
        raise bad_request(f"Invalid {kind} uri: {uri}")
    catalog = sim.catalog
    found = catalog.track(ident) if kind == "track" else catalog.episodes.get(ident)
    if found is None:
        raise SpotifyError(404, f"Non existing id: '{uri}'")
    return text


def _playlist_items(sim: SimulatorState, user: User, ident: str) -> list[str] | None:
    playlist = sim.playlists.get(ident)
    return playlist.track_uris() if playlist is not None and playlist.readable_by(user) else None


def _show_items(sim: SimulatorState, user: User, ident: str) -> list[str] | None:
    return sim.catalog.show_episode_uris(ident) if ident in sim.catalog.shows else None


def _album_items(sim: SimulatorState, user: User, ident: str) -> list[str] | None:
    track_ids = sim.catalog.album_tracks.get(ident)
    return None if track_ids is None else [f"spotify:track:{tid}" for tid in track_ids]


def _artist_items(sim: SimulatorState, user: User, ident: str) -> list[str] | None:
    """An artist's ten most popular tracks."""
    catalog = sim.catalog
    track_ids = catalog.artist_tracks.get(ident)
    if track_ids is None:
        return None
    ids = sorted(track_ids, key=lambda tid: -catalog.by_id[tid].popularity)
    return [f"spotify:track:{tid}" for tid in ids[:10]]


#: What each kind of context plays (None: no such context, or not one this user may see).
CONTEXTS: dict[str, Callable[[SimulatorState, User, str], list[str] | None]] = {
    "playlist": _playlist_items,
    "album": _album_items,
    "artist": _artist_items,
    "show": _show_items,
}


def context_items(sim: SimulatorState, user: User, uri: object) -> list[str]:
    """The uris a ``context_uri`` (playlist, album, artist, show) plays, in order."""
    kind, _, ident = str(uri).removeprefix("spotify:").partition(":")
    if not isinstance(uri, str) or not uri.startswith("spotify:") or not ID_PATTERN.match(ident):
        raise bad_request(f"Invalid context uri: {uri}")
    items_of = CONTEXTS.get(kind)
    if items_of is None:
        raise bad_request(f"Unsupported context uri: {uri}")
    items = items_of(sim, user, ident)
    if items is None:
        raise SpotifyError(404, "Context not found")
    return items


def start_index(offset: object, uris: list[str]) -> int:
    """The index an ``offset`` (``{"position": n}`` or ``{"uri": ...}``) names in ``uris``."""
    if offset is None:
        return 0
    if not isinstance(offset, dict):
        raise bad_request("Invalid offset")
    if "position" in offset:
        return parse_int(offset["position"], "offset", 0, len(uris) - 1)
    if "uri" in offset:
        if offset["uri"] not in uris:
            raise bad_request("Invalid offset: uri not in context")
        return uris.index(offset["uri"])
    raise bad_request("Invalid offset")


def _play_items(ctx: Ctx, body: dict[str, Any]) -> list[str] | None:
    """What ``play`` starts: a context's items or the ``uris``; None to resume."""
    context_uri, uris = body.get("context_uri"), body.get("uris")
    if context_uri is not None and uris is not None:
        raise bad_request("Only one of context_uri and uris can be given")
    if context_uri is not None:
        items = context_items(ctx.sim, ctx.user, context_uri)
        if not items:
            raise refused("NO_SPECIFIC_TRACK", "Player command failed: Context is empty")
        return items
    if uris is not None:
        if not isinstance(uris, list) or not uris:
            raise bad_request("Invalid uris")
        return [playable_uri(ctx.sim, uri) for uri in uris]
    return None


async def play(ctx: Ctx) -> None:
    body = await ctx.json_body()
    position = body.get("position_ms")
    position_ms = (
        None if position is None else parse_int(position, "position_ms", 0, MAX_POSITION_MS)
    )
    items = _play_items(ctx, body)
    _not_refused(ctx.sim, items or [])
    requested = ctx.query("device_id")
    # Playing on a named device needs no active one: it becomes the active device.
    player = controllable(ctx, needs_active=not requested)
    start = 0 if items is None else start_index(body.get("offset"), items)
    now = ctx.now
    if requested and requested != player.device_id:
        player.transfer(now, requested, play=False)
    with refusals_as_forbidden():
        if items is None:
            player.resume(now)
            if position_ms is not None:
                player.seek(now, position_ms)
            return
        context_uri = body.get("context_uri")
        player.load(
            now,
            items,
            context_uri=context_uri if isinstance(context_uri, str) else None,
            start=start,
            position_ms=position_ms or 0,
        )


async def pause(ctx: Ctx) -> None:
    player = controllable(ctx)
    with refusals_as_forbidden():
        player.pause(ctx.now)


async def skip_next(ctx: Ctx) -> None:
    player = controllable(ctx)
    with refusals_as_forbidden():
        player.next(ctx.now)


async def skip_previous(ctx: Ctx) -> None:
    player = controllable(ctx)
    with refusals_as_forbidden():
        player.previous(ctx.now)


async def seek(ctx: Ctx) -> None:
    position = parse_int(ctx.required("position_ms"), "position_ms", 0, MAX_POSITION_MS)
    player = controllable(ctx)
    with refusals_as_forbidden():
        player.seek(ctx.now, position)


async def volume(ctx: Ctx) -> None:
    percent = parse_int(ctx.required("volume_percent"), "volume_percent", 0, 100)
    user = ctx.user
    if not user.premium:
        raise refused("PREMIUM_REQUIRED", "Player command failed: Premium required")
    target_id = ctx.query("device_id") or user.player.device_id
    if target_id is None:
        raise NO_ACTIVE_DEVICE
    device = _device(user, target_id)
    if device.is_restricted or not device.supports_volume:
        raise refused(
            "VOLUME_CONTROL_DISALLOW", "Player command failed: Cannot control device volume"
        )
    device.volume_percent = percent


def parse_bool(raw: str, name: str) -> bool:
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise bad_request(f"Invalid {name}: expected true or false")
    return lowered == "true"


async def shuffle(ctx: Ctx) -> None:
    state = parse_bool(ctx.required("state"), "state")
    player, now = controllable(ctx), ctx.now
    player.set_shuffle(now, state)


REPEAT_MODES: tuple[RepeatMode, ...] = ("off", "context", "track")


async def repeat(ctx: Ctx) -> None:
    raw = ctx.required("state")
    mode = next((m for m in REPEAT_MODES if m == raw), None)
    if mode is None:
        raise bad_request("Invalid state: expected track, context or off")
    player, now = controllable(ctx), ctx.now
    player.set_repeat(now, mode)


def _not_refused(sim: SimulatorState, uris: list[str]) -> None:
    """Refuse items the ``refused_uris`` knob names, as Spotify refuses an unplayable one."""
    if any(uri in sim.config.refused_uris for uri in uris):
        raise refused("UNKNOWN")


async def add_to_queue(ctx: Ctx) -> None:
    uri = playable_uri(ctx.sim, ctx.required("uri"))
    _not_refused(ctx.sim, [uri])
    player, now = controllable(ctx), ctx.now
    player.add_to_queue(now, uri)


def routes(sim: SimulatorState) -> list[Route]:
    return [
        api_route(sim, "GET", "/me/player", get_playback, scopes=READ_STATE),
        api_route(
            sim, "GET", "/me/player/currently-playing", get_currently_playing, scopes=READ_CURRENT
        ),
        api_route(sim, "GET", "/me/player/queue", get_queue, scopes=READ_CURRENT),
        api_route(sim, "GET", "/me/player/devices", get_devices, scopes=READ_STATE),
        api_route(sim, "PUT", "/me/player", transfer, scopes=MODIFY, command=True),
        api_route(sim, "PUT", "/me/player/play", play, scopes=MODIFY, command=True),
        api_route(sim, "PUT", "/me/player/pause", pause, scopes=MODIFY, command=True),
        api_route(sim, "POST", "/me/player/next", skip_next, scopes=MODIFY, command=True),
        api_route(sim, "POST", "/me/player/previous", skip_previous, scopes=MODIFY, command=True),
        api_route(sim, "PUT", "/me/player/seek", seek, scopes=MODIFY, command=True),
        api_route(sim, "PUT", "/me/player/volume", volume, scopes=MODIFY, command=True),
        api_route(sim, "PUT", "/me/player/shuffle", shuffle, scopes=MODIFY, command=True),
        api_route(sim, "PUT", "/me/player/repeat", repeat, scopes=MODIFY, command=True),
        api_route(sim, "POST", "/me/player/queue", add_to_queue, scopes=MODIFY, command=True),
    ]
