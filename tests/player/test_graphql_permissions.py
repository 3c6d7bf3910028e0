"""The permission matrix of GraphQL, read off the schema: every Query and Mutation field
declares one permission; a key lacking it gets ``missing_permission`` (403) for that field
and Spotify is not asked; another account's key never sees the first account's data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLType,
    Undefined,
)

from tests.accounts.conftest import MakeCaller
from tests.player.conftest import ALL, MakeStreamer
from tests.player.doors import GraphQLDoor
from tests.player.support import events_of, upstream_requests
from tests.support.simulator import Sim
from tunedeck.accounts.permissions import Permission
from tunedeck.config import Settings
from tunedeck.player.graphql.permissions import Needs
from tunedeck.player.graphql.schema import Mutation, Query, build_schema

SCHEMA = build_schema(Settings())
SPEC_QUERIES = {"spotifyState", "spotifySearch", "spotifyManualStatus", "spotifyEvents"}
SPEC_MUTATIONS = {
    "spotifyPlayback",
    "spotifyQueue",
    "spotifyTransferPlayback",
    "spotifyPlayPlaylist",
    "spotifyCreatePlaylist",
    "spotifyRenamePlaylist",
    "spotifyDeletePlaylist",
    "spotifyAddToPlaylist",
    "spotifyRemoveFromPlaylist",
    "startSpotifyManual",
    "stopSpotifyManual",
}
# Values for required arguments, by argument name: valid, so only permissions can refuse.
SAMPLES: dict[str, Any] = {
    "uri": "spotify:track:" + "a" * 22,
    "trackUri": "spotify:track:" + "a" * 22,
    "trackUris": ["spotify:track:" + "a" * 22],
    "deviceId": "d89c0f19f785650b208b647181167d4db1fd091c",
    "playlistId": "0123456789abcdefABCDEF",
    "id": "0123456789abcdefABCDEF",
    "name": "A name",
    "query": "love",
    "input": {"action": "PAUSE"},
}


def declared() -> dict[tuple[str, str], Permission]:
    """(operation, field) -> the one permission its resolver declares."""
    found: dict[tuple[str, str], Permission] = {}
    for kind, root in (("query", Query), ("mutation", Mutation)):
        for field in root.__strawberry_definition__.fields:  # type: ignore[union-attr]
            name = SCHEMA.config.name_converter.get_graphql_name(field)
            guards = [c for c in field.permission_classes if issubclass(c, Needs)]
            assert len(guards) == 1, f"{kind} {name}: declare exactly one needs(...) permission"
            found[(kind, name)] = guards[0].permission
    return found


def _type_text(kind: GraphQLType) -> str:
    if isinstance(kind, GraphQLNonNull):
        return _type_text(kind.of_type) + "!"
    if isinstance(kind, GraphQLList):
        return f"[{_type_text(kind.of_type)}]"
    return str(kind.name)  # type: ignore[attr-defined]


def document(kind: str, name: str) -> tuple[str, dict[str, Any]]:
    """A call of the field with its required arguments and a minimal selection."""
    root = SCHEMA._schema.query_type if kind == "query" else SCHEMA._schema.mutation_type
    assert root is not None
    field: GraphQLField = root.fields[name]
    variables, params, passed = {}, [], []
    for arg_name, arg in field.args.items():
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined:
            assert arg_name in SAMPLES, f"add a sample value for argument {arg_name!r}"
            variables[arg_name] = SAMPLES[arg_name]
            params.append(f"${arg_name}: {_type_text(arg.type)}")
            passed.append(f"{arg_name}: ${arg_name}")
    returned = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    while isinstance(returned, GraphQLList | GraphQLNonNull):
        returned = returned.of_type
    selection = " { __typename }" if isinstance(returned, GraphQLObjectType) else ""
    signature = f"({', '.join(params)})" if params else ""
    call = f"({', '.join(passed)})" if passed else ""
    return f"{kind} Op{signature} {{ {name}{call}{selection} }}", variables


def test_every_field_declares_one_permission() -> None:
    table = declared()
    assert {name for kind, name in table if kind == "query"} >= SPEC_QUERIES
    assert {name for kind, name in table if kind == "mutation"} >= SPEC_MUTATIONS
    # The spec's permissions (SPEC sections 2 and 4).
    expected = {
        "spotifyState": Permission.SPOTIFY_READ,
        "spotifySearch": Permission.SPOTIFY_READ,
        "spotifyManualStatus": Permission.SPOTIFY_READ,
        "spotifyPlayback": Permission.SPOTIFY_PLAYBACK,
        "spotifyQueue": Permission.SPOTIFY_QUEUE,
        "spotifyTransferPlayback": Permission.SPOTIFY_DEVICE,
        "spotifyPlayPlaylist": Permission.SPOTIFY_PLAYLIST,
        "spotifyCreatePlaylist": Permission.SPOTIFY_PLAYLIST,
        "spotifyRenamePlaylist": Permission.SPOTIFY_PLAYLIST,
        "spotifyDeletePlaylist": Permission.SPOTIFY_PLAYLIST,
        "spotifyAddToPlaylist": Permission.SPOTIFY_PLAYLIST,
        "spotifyRemoveFromPlaylist": Permission.SPOTIFY_PLAYLIST,
        "startSpotifyManual": Permission.SPOTIFY_WORKER,
        "stopSpotifyManual": Permission.SPOTIFY_WORKER,
    }
    assert {name: p for (_, name), p in table.items() if name in expected} == expected
    for input_type in SCHEMA._schema.type_map.values():
        if isinstance(input_type, GraphQLInputObjectType):
            assert input_type.name == "SpotifyPlaybackInput"


async def test_fields_refuse_keys_lacking_their_permission(
    client: httpx.AsyncClient, make_streamer: MakeStreamer, make_caller: MakeCaller, sim: Sim
) -> None:
    owner = await make_streamer()
    account = owner.caller.account
    single = {p: await make_caller(p, account=account) for p in ALL}
    all_but = {p: await make_caller(*(q for q in ALL if q != p), account=account) for p in ALL}
    failures = []
    for (kind, name), permission in declared().items():
        query, variables = document(kind, name)
        lacking = [c for p, c in single.items() if p != permission.value]
        lacking.append(all_but[permission.value])
        for caller in lacking:
            body = await GraphQLDoor(client, caller.headers).execute(query, variables)
            errors = body.get("errors") or [{}]
            extensions = errors[0].get("extensions", {})
            if (extensions.get("code"), extensions.get("status")) != ("missing_permission", 403):
                failures.append(f"{name} with {caller.key_id}: {errors}")
            elif permission.value not in errors[0]["message"]:
                failures.append(f"{name}: message does not name {permission.value}")
            if (body.get("data") or {}).get(name) is not None:
                failures.append(f"{name}: data despite the refusal")
        # And the key holding just that permission is not refused for permission reasons.
        body = await GraphQLDoor(client, single[permission.value].headers).execute(query, variables)
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        if "missing_permission" in codes:
            failures.append(f"{name}: refused with {permission.value}")
    assert failures == []


async def test_refusals_do_not_reach_spotify(
    client: httpx.AsyncClient, make_streamer: MakeStreamer, make_caller: MakeCaller, sim: Sim
) -> None:
    owner = await make_streamer()
    reader = await make_caller("spotify:read", account=owner.caller.account)
    for (kind, name), permission in declared().items():
        if permission is not Permission.SPOTIFY_READ:
            query, variables = document(kind, name)
            await GraphQLDoor(client, reader.headers).execute(query, variables)
    assert upstream_requests(sim) == 0
    assert sim.playback()["is_playing"] is True


async def test_credentials_are_checked_like_rest(
    client: httpx.AsyncClient, make_streamer: MakeStreamer
) -> None:
    owner = await make_streamer()
    query = {"query": "{ spotifyManualStatus { active } }"}
    response = await client.post("/graphql", json=query)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    created = await client.post("/v1/overlay-tokens", headers=owner.headers, json={})
    overlay = {"Authorization": f"Bearer {created.json()['token']}"}
    response = await client.post("/graphql", json=query, headers=overlay)
    assert response.status_code == 403
    # Batches of operations are not accepted.
    response = await client.post("/graphql", json=[query, query], headers=owner.headers)
    assert response.status_code == 400


async def test_another_account_sees_nothing_of_this_one(
    client: httpx.AsyncClient, make_streamer: MakeStreamer, sim: Sim
) -> None:
    victim = await make_streamer()
    paused = await client.post(
        "/v1/spotify/playback", json={"action": "pause"}, headers=victim.headers
    )
    assert paused.status_code == 200
    started = await client.post("/v1/spotify/manual-connect", headers=victim.headers)
    assert started.json()["active"] is True
    (event,) = await events_of(client, victim.headers, count=1)
    markers = [str(victim.account_id), victim.caller.key_id, event["id"], event["track"]["name"]]
    snapshot = sim.playback()

    other = await make_streamer(connected=False)  # every permission, no Spotify of its own
    for (kind, name), _ in declared().items():
        query, variables = document(kind, name)
        body = await GraphQLDoor(client, other.headers).execute(query, variables)
        text = str(body)
        assert not [m for m in markers if m in text], (name, body)
    status = await GraphQLDoor(client, other.headers).execute(
        "{ spotifyManualStatus { active } spotifyEvents { items { id } } }"
    )
    assert status["data"] == {
        "spotifyManualStatus": {"active": False},
        "spotifyEvents": {"items": []},
    }
    # The victim's player was not touched by the other account's mutations.
    after = sim.playback()
    assert (after["is_playing"], after["track_uri"]) == (False, snapshot["track_uri"])
    # The victim's manual window would keep the account polled in the shared database,
    # and the pollers of later tests' apps calling Spotify for it would skew their counts.
    stopped = await client.delete("/v1/spotify/manual-connect", headers=victim.headers)
    assert stopped.json()["stopped"] is True


@pytest.mark.parametrize("enabled", [True, False])
async def test_introspection_can_be_switched_off(
    enabled: bool, make_app: Any, make_streamer: MakeStreamer
) -> None:
    owner = await make_streamer(connected=False)
    async with make_app(graphql_introspection=enabled) as client:
        body = await GraphQLDoor(client, owner.headers).execute(
            "{ __schema { queryType { name } } }"
        )
        if enabled:
            assert body["data"]["__schema"]["queryType"]["name"] == "Query"
        else:
            assert body["errors"][0]["extensions"]["code"] == "graphql_invalid"
        page = await client.get("/graphiql")
        assert (page.status_code == 200 and "graphiql" in page.text.lower()) is enabled


async def test_a_browser_opening_graphql_is_sent_to_graphiql(client: httpx.AsyncClient) -> None:
    """No credentials needed to reach the page; a GET operation is refused by name."""
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/graphiql"
    query = await client.get("/graphql", params={"query": "{ __typename }"})
    assert query.status_code == 405
    assert query.json()["error"]["code"] == "method_not_allowed"


async def test_depth_and_alias_limits(
    client: httpx.AsyncClient, make_streamer: MakeStreamer
) -> None:
    owner = await make_streamer(connected=False)
    graphql = GraphQLDoor(client, owner.headers)
    aliases = " ".join(f"a{i}: spotifyManualStatus {{ active }}" for i in range(16))
    body = await graphql.execute(f"{{ {aliases} }}")
    assert body["errors"][0]["extensions"]["code"] == "graphql_invalid"
    assert body.get("data") is None
    # The deepest query the schema allows is well within the depth limit.
    deepest = await graphql.execute(
        "{ spotifyEvents { items { track { name } actor { label } } } }"
    )
    assert "errors" not in deepest
    body = await graphql.execute("{ " + "a: __typename " * 3000 + "}")
    assert body["errors"][0]["extensions"]["code"] == "graphql_invalid"
