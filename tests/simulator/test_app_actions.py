"""Changes made "in the Spotify app" (``POST /_sim/users/{user}/app-actions``): each action,
what it changes, and what it refuses (no premium or device restriction applies)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.simulator import Sim
from tunedeck.simulator.defaults import (
    DEMO_CHILL_PLAYLIST_ID,
    DEMO_DESKTOP_ID,
    DEMO_PHONE_ID,
    DEMO_SPEAKER_ID,
    FREE_LAPTOP_ID,
)

NO_ACTIVE = "No active device: transfer first or pass device_id to play"
ACTIONS = (
    "next, previous, pause, play, transfer, volume, seek, shuffle, repeat, queue, "
    "clear_queue, disconnect, private_session"
)


def refused(response: httpx.Response, status: int) -> str:
    """The error message of a refused action (and that it was refused with ``status``)."""
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


def snapshot(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def at_rest(state: dict[str, Any]) -> dict[str, Any]:
    """A playback snapshot without what the passing of time changes (progress)."""
    return {key: value for key, value in state.items() if key != "progress_ms"}


def device(state: dict[str, Any], device_id: str) -> dict[str, Any]:
    return dict(next(d for d in state["devices"] if d["id"] == device_id))


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, f"Unknown action; expected one of {ACTIONS}"),
        ({"action": "dance"}, 400, f"Unknown action; expected one of {ACTIONS}"),
        ({"action": ["next"]}, 400, f"Unknown action; expected one of {ACTIONS}"),
        ({"action": "pause", "device_id": 7}, 400, "Invalid device_id"),
        ({"action": "pause", "device_id": "nope"}, 404, "Device not found"),
        ({"action": "transfer"}, 400, "transfer needs device_id"),
        ({"action": "volume", "volume_percent": 101}, 400, None),
        ({"action": "private_session", "state": "yes"}, 400, None),
        ({"action": "repeat", "state": "always"}, 400, None),
        ({"action": "queue", "uri": "spotify:track:0000000000000000000000"}, 400, "Invalid uri"),
        ({"action": "queue", "uri": 5}, 400, "Invalid uri"),
        ({"action": "seek", "position_ms": -1}, 400, None),
        ({"action": "play", "uris": []}, 400, "Invalid uris"),
        (
            {"action": "play", "uris": ["spotify:track:x"], "context_uri": "spotify:album:x"},
            400,
            "Only one of context_uri and uris can be given",
        ),
    ],
)
def test_bad_actions_are_refused_and_change_nothing(
    sim: Sim, body: dict[str, Any], status: int, message: str | None
) -> None:
    before = sim.playback()
    response = sim.http.post("/_sim/users/demo/app-actions", json=body)
    found = refused(response, status)
    if message is not None:
        assert found == message
    assert at_rest(sim.playback()) == at_rest(before)


def test_pause_next_previous_and_a_refusal_as_409(sim: Sim) -> None:
    first = sim.playback()["track_uri"]
    assert snapshot(sim.app_action(action="pause"))["is_playing"] is False
    assert refused(sim.app_action(action="pause"), 409)
    after_next = snapshot(sim.app_action(action="next"))
    assert (after_next["is_playing"], after_next["track_uri"] != first) == (True, True)
    assert snapshot(sim.app_action(action="previous"))["track_uri"] == first
    assert sim.app_action(action="previous").json()["error"]["reason"] == "NO_PREV_TRACK"


def test_seek_shuffle_repeat_and_queue(sim: Sim) -> None:
    assert snapshot(sim.app_action(action="seek", position_ms=5000))["progress_ms"] == 5000
    assert snapshot(sim.app_action(action="shuffle", state=True))["shuffle"] is True
    assert snapshot(sim.app_action(action="repeat", state="track"))["repeat"] == "track"
    uri = sim.state.catalog.tracks[0].uri
    assert snapshot(sim.app_action(action="queue", uri=uri))["queue"] == [uri]


def test_volume_reaches_restricted_devices_too(sim: Sim) -> None:
    state = snapshot(sim.app_action(action="volume", volume_percent=12))
    assert device(state, DEMO_DESKTOP_ID)["volume_percent"] == 12
    state = snapshot(sim.app_action(action="volume", volume_percent=3, device_id=DEMO_SPEAKER_ID))
    assert device(state, DEMO_SPEAKER_ID)["volume_percent"] == 3


def test_clear_queue_empties_the_users_queue(sim: Sim) -> None:
    queued = snapshot(
        sim.app_action(action="queue", uri=snapshot(sim.app_action(action="next"))["upcoming"][0])
    )
    assert len(queued["queue"]) == 1
    assert snapshot(sim.app_action(action="clear_queue"))["queue"] == []


def test_private_session_on_the_active_or_a_named_device(sim: Sim) -> None:
    state = snapshot(sim.app_action(action="private_session"))
    assert device(state, DEMO_DESKTOP_ID)["is_private_session"] is True
    state = snapshot(sim.app_action(action="private_session", state=False))
    assert device(state, DEMO_DESKTOP_ID)["is_private_session"] is False
    state = snapshot(sim.app_action(action="private_session", device_id=DEMO_PHONE_ID))
    assert device(state, DEMO_PHONE_ID)["is_private_session"] is True


def test_transfer_keeps_or_starts_playback(sim: Sim) -> None:
    sim.app_action(action="pause")
    state = snapshot(sim.app_action(action="transfer", device_id=DEMO_PHONE_ID))
    assert (state["device_id"], state["is_playing"]) == (DEMO_PHONE_ID, False)
    state = snapshot(sim.app_action(action="transfer", device_id=DEMO_DESKTOP_ID, play=True))
    assert (state["device_id"], state["is_playing"]) == (DEMO_DESKTOP_ID, True)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "next"},
        {"action": "previous"},
        {"action": "pause"},
        {"action": "play"},
        {"action": "seek", "position_ms": 1000},
        {"action": "shuffle", "state": True},
        {"action": "repeat", "state": "off"},
        {"action": "private_session"},
        {"action": "volume", "volume_percent": 50},
    ],
)
def test_without_an_active_device(sim: Sim, body: dict[str, Any]) -> None:
    state = snapshot(sim.app_action(action="disconnect"))
    assert (state["device_id"], state["is_playing"]) == (None, False)
    message = refused(sim.http.post("/_sim/users/demo/app-actions", json=body), 400)
    assert message in (NO_ACTIVE, "No active device and no device_id")


def test_play_on_a_named_device_activates_it(sim: Sim) -> None:
    sim.app_action(action="disconnect")
    state = snapshot(sim.app_action(action="play", device_id=DEMO_PHONE_ID, position_ms=2000))
    assert (state["device_id"], state["is_playing"]) == (DEMO_PHONE_ID, True)
    assert state["progress_ms"] == 2000


def test_play_a_context_from_an_offset(sim: Sim) -> None:
    context = f"spotify:playlist:{DEMO_CHILL_PLAYLIST_ID}"
    uris = sim.state.playlists[DEMO_CHILL_PLAYLIST_ID].track_uris()
    state = snapshot(
        sim.app_action(action="play", context_uri=context, offset={"position": 2}, position_ms=9)
    )
    assert (state["context_uri"], state["track_uri"]) == (context, uris[2])
    assert (state["progress_ms"], state["is_playing"]) == (9, True)


def test_a_refused_play_moves_no_playback(sim: Sim) -> None:
    """Checked before anything changes: a bad offset leaves playback on its device."""
    context = f"spotify:playlist:{DEMO_CHILL_PLAYLIST_ID}"
    before = sim.playback()
    response = sim.app_action(
        action="play", device_id=DEMO_PHONE_ID, context_uri=context, offset={"position": 999}
    )
    assert refused(response, 400)
    assert at_rest(sim.playback()) == at_rest(before)


def test_the_free_user_may_act_in_the_app(sim: Sim) -> None:
    state = snapshot(sim.app_action("free", action="play"))
    assert (state["device_id"], state["is_playing"]) == (FREE_LAPTOP_ID, True)
