"""Every input field of every operation, sent through either door, reaches Spotify.

Each case sets fields of one operation and names the request Spotify must receive
for it (method, path, query and body, as the simulator's request log shows them). A
field that one door silently dropped would leave its value out of that request. The
cases together cover every field of every input model, so a field added to a model
without a case here fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.player.conftest import Streamer
from tests.player.doors import doors
from tests.player.support import catalog_tracks
from tests.player.test_parity import MODELS
from tests.support.simulator import Sim


@dataclass(frozen=True)
class Sent:
    """A Web API request that must appear in the simulator's log."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class World:
    """Objects of the simulator's demo user the cases refer to."""

    device: str
    playlist: str
    playlist_track: str
    tracks: list[str]


def contains(whole: Any, part: Any) -> bool:
    """``part`` is in ``whole``: every key of a dict part, every item of a list part."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            key in whole and contains(whole[key], value) for key, value in part.items()
        )
    if isinstance(part, list):
        return (
            isinstance(whole, list)
            and len(whole) == len(part)
            and all(contains(w, p) for w, p in zip(whole, part, strict=True))
        )
    return bool(whole == part)


def seen(log: list[dict[str, Any]], sent: Sent) -> bool:
    return any(
        entry["method"] == sent.method
        and entry["path"] == sent.path
        and contains(entry["query"], sent.query)
        and (sent.body is None or contains(entry["body"], sent.body))
        for entry in log
    )


Case = tuple[str, Callable[[World], dict[str, Any]], Callable[[World], Sent]]

CASES: list[Case] = [
    (
        "playback",
        lambda w: {
            "action": "play",
            "context_uri": f"spotify:playlist:{w.playlist}",
            "offset_uri": w.playlist_track,
            "device_id": w.device,
        },
        lambda w: Sent(
            "PUT",
            "/v1/me/player/play",
            {"device_id": w.device},
            {"context_uri": f"spotify:playlist:{w.playlist}", "offset": {"uri": w.playlist_track}},
        ),
    ),
    (
        "playback",
        lambda w: {"action": "play", "uri": w.tracks[0]},
        lambda w: Sent("PUT", "/v1/me/player/play", body={"uris": [w.tracks[0]]}),
    ),
    (
        "playback",
        lambda w: {"action": "seek", "position_ms": 1234},
        lambda w: Sent("PUT", "/v1/me/player/seek", {"position_ms": "1234"}),
    ),
    (
        "playback",
        lambda w: {"action": "volume", "volume_percent": 37, "device_id": w.device},
        lambda w: Sent(
            "PUT", "/v1/me/player/volume", {"volume_percent": "37", "device_id": w.device}
        ),
    ),
    (
        "playback",
        lambda w: {"action": "shuffle", "state": True},
        lambda w: Sent("PUT", "/v1/me/player/shuffle", {"state": "true"}),
    ),
    (
        "playback",
        lambda w: {"action": "repeat", "mode": "track"},
        lambda w: Sent("PUT", "/v1/me/player/repeat", {"state": "track"}),
    ),
    (
        "queue_add",
        lambda w: {"uri": w.tracks[1]},
        lambda w: Sent("POST", "/v1/me/player/queue", {"uri": w.tracks[1]}),
    ),
    (
        "transfer",
        lambda w: {"device_id": w.device, "play": True},
        lambda w: Sent("PUT", "/v1/me/player", body={"device_ids": [w.device], "play": True}),
    ),
    (
        "play_playlist",
        lambda w: {"uri": f"spotify:playlist:{w.playlist}"},
        lambda w: Sent(
            "PUT", "/v1/me/player/play", body={"context_uri": f"spotify:playlist:{w.playlist}"}
        ),
    ),
    (
        "create_playlist",
        lambda w: {"name": "Stream set", "public": False, "description": "Tonight's"},
        lambda w: Sent(
            "POST",
            "/v1/me/playlists",
            body={"name": "Stream set", "public": False, "description": "Tonight's"},
        ),
    ),
    (
        "rename_playlist",
        lambda w: {"playlist_id": w.playlist, "name": "Renamed", "description": "New words"},
        lambda w: Sent(
            "PUT",
            f"/v1/playlists/{w.playlist}",
            body={"name": "Renamed", "description": "New words"},
        ),
    ),
    (
        "add_tracks",
        lambda w: {"playlist_id": w.playlist, "uris": w.tracks[2:4]},
        lambda w: Sent("POST", f"/v1/playlists/{w.playlist}/items", body={"uris": w.tracks[2:4]}),
    ),
    (
        "remove_track",
        lambda w: {"playlist_id": w.playlist, "uri": w.playlist_track},
        lambda w: Sent(
            "DELETE",
            f"/v1/playlists/{w.playlist}/items",
            body={"items": [{"uri": w.playlist_track}]},
        ),
    ),
    (
        "search",
        lambda w: {"query": "love", "limit": 7},
        lambda w: Sent("GET", "/v1/search", {"q": "love", "limit": "7"}),
    ),
    (
        "playlists",
        lambda w: {"limit": 3, "offset": 1},
        lambda w: Sent("GET", "/v1/me/playlists", {"limit": "3", "offset": "1"}),
    ),
    (
        "playlist_tracks",
        lambda w: {"playlist_id": w.playlist, "limit": 5, "offset": 2},
        lambda w: Sent("GET", f"/v1/playlists/{w.playlist}/items", {"limit": "5", "offset": "2"}),
    ),
    (
        "delete_playlist",
        lambda w: {"playlist_id": w.playlist},
        lambda w: Sent("DELETE", "/v1/me/library", {"uris": f"spotify:playlist:{w.playlist}"}),
    ),
]

# Fields that describe an action in its event and are not sent to Spotify; the events
# listing's filters, which select stored events. Both checked by the events they shape.
NOT_FOR_SPOTIFY = {
    "play_playlist": {"name", "cover_url", "track_count", "playlist_url"},
    "events": {"types", "actor", "since", "until", "cursor", "limit"},
}

EXAMPLE = World(device="d", playlist="p", playlist_track="t", tracks=["a", "b", "c", "e"])


def test_the_cases_cover_every_field_of_every_model() -> None:
    covered: dict[str, set[str]] = {}
    for op, args, _ in CASES:
        covered.setdefault(op, set()).update(args(EXAMPLE))
    missing = {}
    for op, models in MODELS.items():
        fields = {name for model in models for name in model.model_fields}
        left = fields - covered.get(op, set()) - NOT_FOR_SPOTIFY.get(op, set())
        if left:
            missing[op] = sorted(left)
    assert missing == {}


async def world_of(client: httpx.AsyncClient, streamer: Streamer, sim: Sim) -> World:
    devices = await client.get("/v1/spotify/devices", headers=streamer.headers)
    device = next(d["id"] for d in devices.json() if not d["is_restricted"])
    owned = next(p for p in sim.playlists() if p["owner"] == "demo" and p["track_uris"])
    return World(
        device=device,
        playlist=owned["id"],
        playlist_track=owned["track_uris"][0],
        tracks=catalog_tracks(sim, 4),
    )


async def test_every_field_reaches_spotify(
    door_name: str, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    door = doors(client, streamer.headers)[door_name]
    world = await world_of(client, streamer, sim)
    lost = []
    for op, args, expected in CASES:
        answer = await door.call(op, **args(world))
        assert answer.ok, (op, answer.status, answer.code, answer.message)
        if not seen(sim.requests(), expected(world)):
            lost.append(f"{op} {args(world)}")
    assert lost == []


async def test_event_only_fields_reach_the_event(
    door_name: str, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    door = doors(client, streamer.headers)[door_name]
    world = await world_of(client, streamer, sim)
    described = {
        "uri": f"spotify:playlist:{world.playlist}",
        "name": "Late set",
        "cover_url": "https://img.example/cover.jpg",
        "track_count": 12,
        "playlist_url": "https://open.example/playlist/1",
    }
    answer = await door.call("play_playlist", **described)
    assert answer.ok, answer.message
    assert answer.data["event"]["params"] == described
