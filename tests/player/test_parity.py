"""The two doors agree: the same inputs, and the same answer to the same mistake.

- Every operation's input model (``player.inputs``) is what both doors accept: its
  fields are the REST body or query parameters and the GraphQL arguments (or input
  fields), no more, no less.
- A table of bad inputs, at least three per operation that takes input (empty, too long,
  wrong type or malformed, out of range), answered with the same status and code by
  both doors, and nothing sent to Spotify.
- Unknown fields are refused by every REST input, naming them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from tests.player.conftest import Streamer
from tests.player.doors import GRAPHQL_ARG_NAMES, GRAPHQL_OPS, GraphQLDoor, camel, doors
from tests.player.support import upstream_requests
from tests.support.simulator import Sim
from tunedeck.player import inputs


@pytest.fixture
async def client(make_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The app without rate limits: this module sends one key's calls in a flood on
    purpose (the limits themselves are tested in test_limits.py)."""
    async with make_app(rate_limits=False) as client:
        yield client


TRACK = "spotify:track:" + "a" * 22
PLAYLIST = "0123456789abcdefABCDEF"
LONG = "x" * 3000

# op -> the model(s) whose fields make its input.
MODELS: dict[str, tuple[type[BaseModel], ...]] = {
    "playback": (inputs.PlaybackIn,),
    "queue_add": (inputs.QueueIn,),
    "transfer": (inputs.TransferIn,),
    "play_playlist": (inputs.PlayPlaylistIn,),
    "create_playlist": (inputs.CreatePlaylistIn,),
    "rename_playlist": (inputs.PlaylistTarget, inputs.RenamePlaylistIn),
    "delete_playlist": (inputs.PlaylistTarget,),
    "add_tracks": (inputs.PlaylistTarget, inputs.AddTracksIn),
    "remove_track": (inputs.PlaylistTarget, inputs.RemoveTrackIn),
    "search": (inputs.SearchIn,),
    "playlists": (inputs.PlaylistsPageIn,),
    "playlist_tracks": (inputs.PlaylistTarget, inputs.PlaylistTracksPageIn),
    "events": (inputs.EventsQueryIn,),
}

INVALID = (422, "validation_error")

# op, input, (status, code) both doors must answer.
BAD: list[tuple[str, dict[str, Any], tuple[int, str]]] = [
    ("playback", {"action": "play", "uri": ""}, INVALID),
    ("playback", {"action": "play", "context_uri": "spotify:album:" + LONG}, INVALID),
    ("playback", {"action": "volume", "volume_percent": "loud"}, INVALID),
    ("playback", {"action": "volume", "volume_percent": 101}, INVALID),
    ("playback", {"action": "seek", "position_ms": -1}, INVALID),
    ("playback", {"action": "play", "offset_uri": TRACK}, INVALID),
    ("queue_add", {"uri": ""}, INVALID),
    ("queue_add", {"uri": TRACK + LONG}, INVALID),
    ("queue_add", {"uri": 5}, INVALID),
    ("queue_add", {"uri": "spotify:album:" + "a" * 22}, INVALID),
    ("transfer", {"device_id": ""}, INVALID),
    ("transfer", {"device_id": LONG}, INVALID),
    ("transfer", {"device_id": 7}, INVALID),
    ("transfer", {"device_id": "abc", "play": "yes"}, INVALID),
    ("play_playlist", {"uri": ""}, INVALID),
    ("play_playlist", {"uri": f"spotify:playlist:{PLAYLIST}", "cover_url": LONG}, INVALID),
    ("play_playlist", {"uri": f"spotify:playlist:{PLAYLIST}", "track_count": "many"}, INVALID),
    ("play_playlist", {"uri": f"spotify:playlist:{PLAYLIST}", "track_count": -1}, INVALID),
    ("create_playlist", {"name": ""}, INVALID),
    ("create_playlist", {"name": "x" * 101}, INVALID),
    ("create_playlist", {"name": 5}, INVALID),
    ("create_playlist", {"name": "ok", "description": LONG}, INVALID),
    ("rename_playlist", {"playlist_id": PLAYLIST, "name": ""}, INVALID),
    ("rename_playlist", {"playlist_id": PLAYLIST, "name": "x" * 101}, INVALID),
    ("rename_playlist", {"playlist_id": "not-an-id!", "name": "ok"}, INVALID),
    ("rename_playlist", {"playlist_id": PLAYLIST}, INVALID),
    ("delete_playlist", {"playlist_id": " "}, INVALID),
    ("delete_playlist", {"playlist_id": "x" * 65}, INVALID),
    ("delete_playlist", {"playlist_id": "not-an-id!"}, INVALID),
    ("add_tracks", {"playlist_id": PLAYLIST, "uris": []}, INVALID),
    ("add_tracks", {"playlist_id": PLAYLIST, "uris": [TRACK] * 101}, INVALID),
    ("add_tracks", {"playlist_id": PLAYLIST, "uris": ["nope"]}, INVALID),
    ("add_tracks", {"playlist_id": "x" * 65, "uris": [TRACK]}, INVALID),
    ("remove_track", {"playlist_id": PLAYLIST, "uri": ""}, INVALID),
    ("remove_track", {"playlist_id": PLAYLIST, "uri": TRACK + LONG}, INVALID),
    ("remove_track", {"playlist_id": PLAYLIST, "uri": 5}, INVALID),
    ("remove_track", {"playlist_id": "bad id", "uri": TRACK}, INVALID),
    ("search", {"query": ""}, INVALID),
    ("search", {"query": "x" * 251}, INVALID),
    ("search", {"query": "a", "limit": "many"}, INVALID),
    ("search", {"query": "a", "limit": 0}, INVALID),
    ("search", {"query": "a", "limit": 51}, INVALID),
    ("playlists", {"limit": 0}, INVALID),
    ("playlists", {"limit": 51}, INVALID),
    ("playlists", {"limit": "many"}, INVALID),
    ("playlists", {"offset": -1}, INVALID),
    ("playlists", {"offset": inputs.MAX_PLAYLISTS_OFFSET + 1}, INVALID),  # Spotify's bound
    ("playlist_tracks", {"playlist_id": PLAYLIST, "limit": 0}, INVALID),
    ("playlist_tracks", {"playlist_id": PLAYLIST, "limit": 101}, INVALID),
    ("playlist_tracks", {"playlist_id": PLAYLIST, "offset": "far"}, INVALID),
    ("playlist_tracks", {"playlist_id": "not-an-id!"}, INVALID),
    ("playlist_tracks", {"playlist_id": PLAYLIST, "offset": 10**12}, INVALID),
    ("events", {"limit": 0}, INVALID),
    ("events", {"limit": inputs.MAX_EVENTS_LIMIT + 1}, INVALID),
    ("events", {"limit": "many"}, INVALID),
    ("events", {"cursor": LONG}, INVALID),
    ("events", {"cursor": "not-a-cursor"}, (400, "bad_cursor")),
    ("events", {"cursor": ""}, (400, "bad_cursor")),
    ("events", {"types": ["spotify:dance"]}, (422, "unknown_event_type")),
    ("events", {"actor": ""}, INVALID),
    ("events", {"actor": "k" * (inputs.MAX_ACTOR_KEY_ID + 1)}, INVALID),
]


def test_the_table_has_three_mistakes_per_operation() -> None:
    counts = {op: sum(1 for o, _, _ in BAD if o == op) for op in MODELS}
    assert {op: n for op, n in counts.items() if n < 3} == {}


async def test_both_doors_answer_the_same_mistake_the_same_way(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    rest, graphql = doors(client, streamer.headers).values()
    disagreements = []
    for op, args, (status, code) in BAD:
        by_rest = await rest.call(op, **args)
        by_graphql = await graphql.call(op, **args)
        answers = ((by_rest.status, by_rest.code), (by_graphql.status, by_graphql.code))
        if answers != ((status, code), (status, code)):
            disagreements.append(f"{op} {str(args)[:80]}: rest {answers[0]}, graphql {answers[1]}")
    assert disagreements == []
    assert upstream_requests(sim) == 0


def _graphql_arguments(schema: dict[str, Any], op: str) -> set[str]:
    """The argument (or input field) names through which ``op`` takes its input."""
    field_name, kind, *_ = GRAPHQL_OPS[op]
    root = schema["queryType" if kind == "query" else "mutationType"]["name"]
    types = {t["name"]: t for t in schema["types"]}
    field = next(f for f in types[root]["fields"] if f["name"] == field_name)
    names = {arg["name"] for arg in field["args"]}
    if names == {"input"}:
        input_type = next(a for a in field["args"] if a["name"] == "input")["type"]
        while input_type.get("ofType"):
            input_type = input_type["ofType"]
        names = {f["name"] for f in types[input_type["name"]]["inputFields"]}
    return names


INTROSPECTION = """{ __schema { queryType { name } mutationType { name }
  types { name fields { name args { name type { name kind ofType { name kind } } } }
          inputFields { name } } } }"""


async def test_every_model_field_is_an_argument_of_the_graphql_door(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    graphql = GraphQLDoor(client, streamer.headers)
    schema = (await graphql.execute(INTROSPECTION))["data"]["__schema"]
    mismatches = {}
    for op, models in MODELS.items():
        fields = [name for model in models for name in model.model_fields]
        expected = {GRAPHQL_ARG_NAMES.get((op, name), camel(name)) for name in fields}
        actual = _graphql_arguments(schema, op)
        if expected != actual:
            mismatches[op] = (sorted(expected), sorted(actual))
    assert mismatches == {}


def test_every_model_field_is_in_the_rest_contract() -> None:
    """The OpenAPI description lists each model's fields as the route's body or query."""
    from tunedeck.app import create_app

    spec = create_app().openapi()
    routes = {
        "playback": ("post", "/v1/spotify/playback"),
        "search": ("get", "/v1/spotify/search"),
        "playlists": ("get", "/v1/spotify/playlists"),
        "events": ("get", "/v1/spotify/events"),
        "add_tracks": ("post", "/v1/spotify/playlists/{playlist_id}/tracks"),
    }
    schemas = spec["components"]["schemas"]
    for op, (method, path) in routes.items():
        operation = spec["paths"][path][method]
        named = {p["name"] for p in operation.get("parameters", [])}
        body = operation.get("requestBody")
        if body is not None:
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            named |= set(schemas[ref]["properties"])
        expected = {
            field.alias or name
            for model in MODELS[op]
            for name, field in model.model_fields.items()
        }
        assert named == expected, op


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/playback", {"action": "pause", "colour": "red"}),
        ("POST", "/queue", {"uri": TRACK, "colour": "red"}),
        ("POST", "/devices", {"device_id": "abc", "colour": "red"}),
        ("POST", "/playlists", {"uri": f"spotify:playlist:{PLAYLIST}", "colour": "red"}),
        ("POST", "/playlists/new", {"name": "ok", "colour": "red"}),
        ("PATCH", f"/playlists/{PLAYLIST}", {"name": "ok", "colour": "red"}),
        ("POST", f"/playlists/{PLAYLIST}/tracks", {"uris": [TRACK], "colour": "red"}),
        ("DELETE", f"/playlists/{PLAYLIST}/tracks", {"uri": TRACK, "colour": "red"}),
        ("GET", "/search?query=a&colour=red", None),
        ("GET", "/playlists?colour=red", None),
        ("GET", f"/playlists/{PLAYLIST}/tracks?colour=red", None),
        ("GET", "/events?colour=red", None),
    ],
)
async def test_unknown_fields_are_refused_by_name(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim, method: str, path: str, body: Any
) -> None:
    response = await client.request(
        method, "/v1/spotify" + path, json=body, headers=streamer.headers
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fields"] == [
        {"field": "colour", "message": "is not a field of this input", "type": "extra_forbidden"}
    ]
    assert error["message"] == "colour: is not a field of this input"
    assert upstream_requests(sim) == 0
