"""Changes a user makes in the Spotify app itself (``POST /_sim/users/{user}/app-actions``):
no premium or device restriction applies there, and it may play local files.

Each action is a handler of :data:`APP_ACTIONS`; a handler checks its body before it changes
anything, and the player's refusals become 409."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tunedeck.simulator.catalog import parse_local_uri
from tunedeck.simulator.errors import SpotifyError, bad_request
from tunedeck.simulator.playback import Player, PlayerRefusal
from tunedeck.simulator.player_routes import (
    MAX_POSITION_MS,
    context_items,
    playable_uri,
    start_index,
)
from tunedeck.simulator.state import SimulatorState
from tunedeck.simulator.store import Device, User
from tunedeck.simulator.webapi import parse_int, str_field


@dataclass(frozen=True)
class AppAction:
    """One action: whose, its body, the device it names (one of the user's), and when."""

    sim: SimulatorState
    user: User
    body: dict[str, Any]
    device_id: str | None
    now: float

    @property
    def player(self) -> Player:
        return self.user.player

    def target(self) -> Device:
        """The device named, else the active one: what a device setting changes."""
        device_id = self.device_id or self.player.device_id
        if device_id is None:
            raise bad_request("No active device and no device_id")
        return self.user.devices[device_id]

    def require_active(self) -> None:
        if self.player.device_id is None:
            raise bad_request("No active device: transfer first or pass device_id to play")


@contextmanager
def refusals_as_conflict() -> Iterator[None]:
    """The player's refusal (an ad playing, nothing next...) as Spotify-shaped 409."""
    try:
        yield
    except PlayerRefusal as exc:
        raise SpotifyError(409, exc.message, exc.reason) from None


# -- the device ---------------------------------------------------------------------------


def _private_session(action: AppAction) -> None:
    state = action.body.get("state", True)
    device = action.target()
    if not isinstance(state, bool):
        raise bad_request("Invalid state: expected true or false")
    device.is_private_session = state


def _transfer(action: AppAction) -> None:
    if action.device_id is None:
        raise bad_request("transfer needs device_id")
    play = action.body.get("play")
    action.player.transfer(action.now, action.device_id, play if isinstance(play, bool) else None)


def _volume(action: AppAction) -> None:
    device = action.target()
    device.volume_percent = parse_int(action.body.get("volume_percent"), "volume_percent", 0, 100)


def _disconnect(action: AppAction) -> None:
    player = action.player
    if player.is_playing:
        player.pause(action.now)
    player.device_id = None


# -- playing ------------------------------------------------------------------------------


def app_uri(sim: SimulatorState, uri: object) -> str:
    """A uri the Spotify app can play or queue: a catalog track or episode, or a local file."""
    if isinstance(uri, str) and parse_local_uri(uri) is not None:
        return uri
    return playable_uri(sim, uri)


def _play_items(action: AppAction) -> tuple[list[str], str | None] | None:
    """What a ``play`` action starts (its items and context uri), or None to just resume."""
    context_uri, uris = action.body.get("context_uri"), action.body.get("uris")
    if context_uri is not None and uris is not None:
        raise bad_request("Only one of context_uri and uris can be given")
    if context_uri is not None:
        items = context_items(action.sim, action.user, context_uri)
        if not items:
            raise bad_request("Context is empty")
        return items, str(context_uri)
    if uris is not None:
        if not isinstance(uris, list) or not uris:
            raise bad_request("Invalid uris")
        return [app_uri(action.sim, uri) for uri in uris], None
    return None


def _play_device(action: AppAction) -> str | None:
    """The device ``play`` moves playback to first (None: it plays where it is)."""
    if action.device_id is not None and action.device_id != action.player.device_id:
        return action.device_id
    action.require_active()
    return None


def _play(action: AppAction) -> None:
    items = _play_items(action)
    raw_position = action.body.get("position_ms")
    position_ms = (
        None if raw_position is None else parse_int(raw_position, "position_ms", 0, MAX_POSITION_MS)
    )
    device_id = _play_device(action)
    start = 0 if items is None else start_index(action.body.get("offset"), items[0])
    player, now = action.player, action.now
    if device_id is not None:
        player.transfer(now, device_id, play=None)
    if items is not None:
        uris, context_uri = items
        player.load(now, uris, context_uri=context_uri, start=start, position_ms=position_ms or 0)
        return
    player.resume(now)
    if position_ms is not None:
        player.seek(now, position_ms)


def _next(action: AppAction) -> None:
    action.require_active()
    action.player.next(action.now)


def _previous(action: AppAction) -> None:
    action.require_active()
    action.player.previous(action.now)


def _pause(action: AppAction) -> None:
    action.require_active()
    action.player.pause(action.now)


def _seek(action: AppAction) -> None:
    action.require_active()
    position_ms = parse_int(action.body.get("position_ms"), "position_ms", 0, MAX_POSITION_MS)
    action.player.seek(action.now, position_ms)


def _shuffle(action: AppAction) -> None:
    action.require_active()
    action.player.set_shuffle(action.now, bool(action.body.get("state")))


def _repeat(action: AppAction) -> None:
    action.require_active()
    mode = action.body.get("state")
    if mode not in ("off", "context", "track"):
        raise bad_request("Invalid state: expected track, context or off")
    action.player.set_repeat(action.now, mode)


def _queue(action: AppAction) -> None:
    action.require_active()
    uri = str_field(action.body, "uri") or ""
    if action.sim.catalog.item_type(uri) == "unknown":
        raise bad_request("Invalid uri")
    action.player.add_to_queue(action.now, uri)


def _clear_queue(action: AppAction) -> None:
    """The user empties their queue in the app (what the Web API cannot do)."""
    action.player.queue.clear()


#: Every action, by the name a body's ``action`` gives.
APP_ACTIONS: dict[str, Callable[[AppAction], None]] = {
    "next": _next,
    "previous": _previous,
    "pause": _pause,
    "play": _play,
    "transfer": _transfer,
    "volume": _volume,
    "seek": _seek,
    "shuffle": _shuffle,
    "repeat": _repeat,
    "queue": _queue,
    "clear_queue": _clear_queue,
    "disconnect": _disconnect,
    "private_session": _private_session,
}


def apply_app_action(sim: SimulatorState, user: User, body: dict[str, Any]) -> None:
    """Carry out the action ``body`` describes, as the user would in the Spotify app."""
    name = body.get("action")
    handler = APP_ACTIONS.get(name) if isinstance(name, str) else None
    if handler is None:
        raise bad_request(f"Unknown action; expected one of {', '.join(APP_ACTIONS)}")
    now = sim.now()
    user.player.settle(now)
    device_id = str_field(body, "device_id")
    if device_id is not None and device_id not in user.devices:
        raise SpotifyError(404, "Device not found")
    with refusals_as_conflict():
        handler(AppAction(sim, user, body, device_id, now))
