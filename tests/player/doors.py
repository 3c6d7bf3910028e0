"""The two doors of the player behind one interface, so that every scenario runs through
REST and through GraphQL with the same assertions. GraphQL answers are turned back into
snake_case and its errors into (status, code) as REST gives them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

TRACK = "uri id type name artists album albumArtUrl durationMs explicit url"
DEVICE = "id name type isActive isRestricted volumePercent supportsVolume"
PLAYLIST = "id uri name description public collaborative owner imageUrl trackCount url"
PART_ERROR = "code message"
EVENT = (
    "id type occurredAt actor { keyId label kind } params "
    "track { name artists album artUrl uri durationMs progressMs }"
)
ACTION = f"action event {{ {EVENT} }}"
STATE = (
    f"nowPlaying {{ isPlaying progressMs track {{ {TRACK} }} device {{ {DEVICE} }} "
    f"contextUri shuffle repeat volumePercent timestamp }} "
    f"queue {{ currentlyPlaying {{ {TRACK} }} items {{ {TRACK} }} }} "
    f"devices {{ {DEVICE} }} playlists {{ {PLAYLIST} }} "
    f"errors {{ nowPlaying {{ {PART_ERROR} }} queue {{ {PART_ERROR} }} "
    f"devices {{ {PART_ERROR} }} playlists {{ {PART_ERROR} }} }}"
)
MANUAL = "active remainingSeconds expiresAt"
QUEUE = f"currentlyPlaying {{ {TRACK} }} items {{ {TRACK} }}"
SNAPSHOT = "playlistId snapshotId"
EVENTS = f"items {{ {EVENT} }} nextCursor"


@dataclass
class Answer:
    """What a door answered: HTTP-like status, error code (None on success), data."""

    status: int
    code: str | None
    data: Any
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""
    # The inputs an error names (details.fields), as this door's caller wrote them.
    fields: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code is None


class Door(Protocol):
    name: str

    async def call(self, op: str, **args: Any) -> Answer: ...


def snake(value: Any) -> Any:
    """camelCase keys to snake_case, recursively (values untouched)."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class RestDoor:
    name = "rest"

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def _route(self, op: str, args: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """(method, path, request kwargs) of an operation."""
        pid = args.pop("playlist_id", None)
        table: dict[str, tuple[str, str]] = {
            "state": ("GET", "/state"),
            "queue": ("GET", "/queue"),
            "devices": ("GET", "/devices"),
            "playlists": ("GET", "/playlists"),
            "playlist_tracks": ("GET", f"/playlists/{pid}/tracks"),
            "search": ("GET", "/search"),
            "manual_status": ("GET", "/manual-connect"),
            "start_manual": ("POST", "/manual-connect"),
            "stop_manual": ("DELETE", "/manual-connect"),
            "playback": ("POST", "/playback"),
            "queue_add": ("POST", "/queue"),
            "transfer": ("POST", "/devices"),
            "play_playlist": ("POST", "/playlists"),
            "create_playlist": ("POST", "/playlists/new"),
            "rename_playlist": ("PATCH", f"/playlists/{pid}"),
            "delete_playlist": ("DELETE", f"/playlists/{pid}"),
            "add_tracks": ("POST", f"/playlists/{pid}/tracks"),
            "remove_track": ("DELETE", f"/playlists/{pid}/tracks"),
            "events": ("GET", "/events"),
        }
        if op == "events" and "types" in args:
            args["type"] = args.pop("types")
        method, path = table[op]
        if method == "GET":
            return method, path, {"params": args}
        if op in ("start_manual", "stop_manual", "delete_playlist"):
            return method, path, {}
        return method, path, {"json": args}

    async def call(self, op: str, **args: Any) -> Answer:
        method, path, kwargs = self._route(op, dict(args))
        response = await self.client.request(
            method, "/v1/spotify" + path, headers=self.headers, **kwargs
        )
        body = response.json()
        if response.status_code >= 400:
            error = body["error"]
            named = (error.get("details") or {}).get("fields") or []
            return Answer(
                response.status_code,
                error["code"],
                None,
                dict(response.headers),
                error["message"],
                [f["field"] for f in named],
            )
        if op == "stop_manual":
            body = body["stopped"]
        elif op in ("rename_playlist", "delete_playlist"):
            body = True
        return Answer(response.status_code, None, body, dict(response.headers))


# op -> (GraphQL field, operation type, argument types, selection, path into the result)
GRAPHQL_OPS: dict[str, tuple[str, str, dict[str, str], str, tuple[str, ...]]] = {
    "state": ("spotifyState", "query", {}, STATE, ()),
    "queue": ("spotifyQueue", "query", {}, QUEUE, ()),
    "devices": ("spotifyDevices", "query", {}, DEVICE, ()),
    "playlists": ("spotifyPlaylists", "query", {"limit": "Int", "offset": "Int"}, PLAYLIST, ()),
    "playlist_tracks": (
        "spotifyPlaylistTracks",
        "query",
        {"playlist_id": "String!", "limit": "Int", "offset": "Int"},
        f"playlistId offset limit items {{ addedAt track {{ {TRACK} }} }}",
        (),
    ),
    "search": ("spotifySearch", "query", {"query": "String!", "limit": "Int"}, TRACK, ()),
    "manual_status": ("spotifyManualStatus", "query", {}, MANUAL, ()),
    "start_manual": ("startSpotifyManual", "mutation", {}, MANUAL, ()),
    "stop_manual": ("stopSpotifyManual", "mutation", {}, "", ()),
    "playback": ("spotifyPlayback", "mutation", {"input": "SpotifyPlaybackInput!"}, ACTION, ()),
    "queue_add": ("spotifyQueue", "mutation", {"uri": "String!"}, ACTION, ()),
    "transfer": (
        "spotifyTransferPlayback",
        "mutation",
        {"device_id": "String!", "play": "Boolean"},
        ACTION,
        (),
    ),
    "play_playlist": (
        "spotifyPlayPlaylist",
        "mutation",
        {
            "uri": "String!",
            "name": "String",
            "cover_url": "String",
            "track_count": "Int",
            "playlist_url": "String",
        },
        ACTION,
        (),
    ),
    "create_playlist": (
        "spotifyCreatePlaylist",
        "mutation",
        {"name": "String!", "public": "Boolean", "description": "String"},
        PLAYLIST,
        (),
    ),
    "rename_playlist": (
        "spotifyRenamePlaylist",
        "mutation",
        {"playlist_id": "String!", "name": "String", "description": "String"},
        "",
        (),
    ),
    "delete_playlist": ("spotifyDeletePlaylist", "mutation", {"playlist_id": "String!"}, "", ()),
    "add_tracks": (
        "spotifyAddToPlaylist",
        "mutation",
        {"playlist_id": "String!", "uris": "[String!]!"},
        SNAPSHOT,
        (),
    ),
    "remove_track": (
        "spotifyRemoveFromPlaylist",
        "mutation",
        {"playlist_id": "String!", "uri": "String!"},
        SNAPSHOT,
        (),
    ),
    "events": (
        "spotifyEvents",
        "query",
        {
            "types": "[String!]",
            "actor": "String",
            "since": "DateTime",
            "until": "DateTime",
            "cursor": "String",
            "limit": "Int",
        },
        EVENTS,
        (),
    ),
}
# Where GraphQL names an argument differently from the REST body.
GRAPHQL_ARG_NAMES = {
    ("rename_playlist", "playlist_id"): "id",
    ("delete_playlist", "playlist_id"): "id",
    ("add_tracks", "uris"): "trackUris",
    ("remove_track", "uri"): "trackUri",
    ("events", "cursor"): "after",
}


def graphql_document(op: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The query text and variables calling ``op`` with ``args``."""
    name, kind, types, selection, _ = GRAPHQL_OPS[op]
    variables: dict[str, Any] = {}
    params, passed = [], []
    if op == "playback":
        fields = dict(args)
        fields["action"] = str(fields["action"]).upper()
        variables["input"] = {camel(k): v for k, v in fields.items()}
        params.append("$input: SpotifyPlaybackInput!")
        passed.append("input: $input")
    else:
        for key, value in args.items():
            arg = GRAPHQL_ARG_NAMES.get((op, key), camel(key))
            variables[arg] = value
            params.append(f"${arg}: {types[key]}")
            passed.append(f"{arg}: ${arg}")
    signature = f"({', '.join(params)})" if params else ""
    call = f"({', '.join(passed)})" if passed else ""
    body = f" {{ {selection} }}" if selection else ""
    return f"{kind} Op{signature} {{ {name}{call}{body} }}", variables


class GraphQLDoor:
    name = "graphql"

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def call(self, op: str, **args: Any) -> Answer:
        query, variables = graphql_document(op, args)
        body = await self.execute(query, variables)
        if body.get("errors"):
            error = body["errors"][0]
            extensions = error["extensions"]
            named = (extensions.get("details") or {}).get("fields") or []
            return Answer(
                extensions["status"],
                extensions["code"],
                None,
                message=error["message"],
                fields=[f["field"] for f in named],
            )
        data: Any = snake(body["data"][GRAPHQL_OPS[op][0]])
        for step in GRAPHQL_OPS[op][4]:
            data = data[step]
        return Answer(200, None, data)


def doors(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Door]:
    return {"rest": RestDoor(client, headers), "graphql": GraphQLDoor(client, headers)}


def field_as_named_by(door: str, op: str, field: str) -> str:
    """How ``door`` names the input that REST calls ``field`` (``uris[1]`` of add_tracks
    is ``trackUris[1]`` in GraphQL, ``volume_percent`` of playback ``input.volumePercent``)."""
    if door == "rest":
        return field
    head, bracket, tail = field.partition("[")
    name = GRAPHQL_ARG_NAMES.get((op, head), camel(head))
    prefix = "input." if op == "playback" else ""
    return f"{prefix}{name}{bracket}{tail}"
