"""Playlists: list, read, create, change details, unfollow, add / remove / replace items.

Items live at ``/playlists/{id}/items``; the deprecated ``/tracks`` paths behave the
same, except that development-mode apps are refused them (403), as on Spotify.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from tunedeck.simulator.catalog import stable_id
from tunedeck.simulator.errors import bad_request, forbidden, json_response, not_found
from tunedeck.simulator.state import SimulatorState
from tunedeck.simulator.store import Playlist, PlaylistEntry, utc_iso
from tunedeck.simulator.webapi import (
    Ctx,
    Handler,
    api_route,
    parse_int,
    str_field,
    track_uri_id,
)

READ = ("playlist-read-private", "playlist-read-collaborative")
MODIFY = ("playlist-modify-public", "playlist-modify-private")
LIBRARY_MODIFY = ("user-library-modify", "user-follow-modify", "playlist-modify-public")
MAX_ITEMS_PER_CALL = 100
MAX_LIBRARY_URIS = 40


def readable(ctx: Ctx) -> Playlist:
    """The playlist of the path, if the user may see it (else 404, as for a missing one)."""
    playlist_id = ctx.request.path_params["playlist_id"]
    playlist = ctx.sim.playlists.get(playlist_id)
    if playlist is None or not playlist.readable_by(ctx.user):
        raise not_found()
    return playlist


def writable(ctx: Ctx) -> Playlist:
    """The playlist of the path, if the user may change it (owner, or collaborative)."""
    playlist = readable(ctx)
    if playlist.owner_id != ctx.user.id and not (
        playlist.collaborative and playlist.id in ctx.user.library
    ):
        raise forbidden("You cannot modify a playlist you don't own.")
    return playlist


def owner_name(ctx: Ctx, playlist: Playlist) -> str | None:
    owner = ctx.sim.users.get(playlist.owner_id)
    return owner.display_name if owner else None


def deprecated_path(handler: Handler) -> Handler:
    """The ``/tracks`` twin of an ``/items`` handler: refused in development mode."""

    async def wrapped(ctx: Ctx) -> Response | None:
        if ctx.sim.config.development_mode:
            raise forbidden("Forbidden: this endpoint is not available to development mode apps")
        return await handler(ctx)

    return wrapped


# -- reading ---------------------------------------------------------------------------


async def my_playlists(ctx: Ctx) -> Response:
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    library = [ctx.sim.playlists[pid] for pid in ctx.user.library if pid in ctx.sim.playlists]
    items = [
        ctx.render.playlist_simple(p, owner_name(ctx, p)) for p in library[offset : offset + limit]
    ]
    return json_response(
        ctx.render.page(
            f"{ctx.render.api}/me/playlists", items, offset=offset, limit=limit, total=len(library)
        )
    )


async def get_playlist(ctx: Ctx) -> Response:
    playlist = readable(ctx)
    return json_response(ctx.render.playlist_full(playlist, owner_name(ctx, playlist)))


def _items_reader(path: str) -> Handler:
    async def get_items(ctx: Ctx) -> Response:
        playlist = readable(ctx)
        if ctx.sim.config.development_mode and playlist.owner_id != ctx.user.id:
            # Since 2026 development-mode apps may only read items of their own playlists.
            raise forbidden("Forbidden")
        limit = ctx.int_query("limit", 20, 1, MAX_ITEMS_PER_CALL)
        offset = ctx.int_query("offset", 0, 0, 1_000_000)
        page = ctx.render.playlist_items(playlist, offset=offset, limit=limit, path=path)
        return json_response(page)

    return get_items


# -- changing --------------------------------------------------------------------------


def _bool_field(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"Invalid {name}")
    return value


async def create_playlist(ctx: Ctx) -> Response:
    if "user_id" in ctx.request.path_params and ctx.request.path_params["user_id"] != ctx.user.id:
        raise forbidden("You cannot create a playlist for another user.")
    body = await ctx.json_body()
    name = str_field(body, "name")
    if not name or not name.strip():
        raise bad_request("Missing required field: name")
    public = _bool_field(body, "public")
    collaborative = _bool_field(body, "collaborative") or False
    if collaborative and public:
        raise bad_request("Collaborative playlists cannot be public")
    sim = ctx.sim
    sim.created_playlists += 1
    playlist = Playlist(
        id=stable_id(f"created:{sim.config.seed}:{ctx.user.id}:{sim.created_playlists}"),
        name=name,
        owner_id=ctx.user.id,
        description=str_field(body, "description"),
        public=True if public is None else public,
        collaborative=collaborative,
    )
    sim.playlists[playlist.id] = playlist
    ctx.user.library.insert(0, playlist.id)
    return json_response(ctx.render.playlist_full(playlist, ctx.user.display_name), 201)


async def change_details(ctx: Ctx) -> Response:
    playlist = writable(ctx)
    body = await ctx.json_body()
    name = str_field(body, "name")
    description = str_field(body, "description")
    public = _bool_field(body, "public")
    collaborative = _bool_field(body, "collaborative")
    if name is not None and not name.strip():
        raise bad_request("Invalid name")
    if collaborative and (public if public is not None else playlist.public):
        raise bad_request("Collaborative playlists cannot be public")
    if name is not None:
        playlist.name = name
    if description is not None:
        playlist.description = description
    if public is not None:
        playlist.public = public
    if collaborative is not None:
        playlist.collaborative = collaborative
    playlist.touch()
    return Response(status_code=200)


def _unfollow(ctx: Ctx, playlist_id: str) -> None:
    if playlist_id in ctx.user.library:
        ctx.user.library.remove(playlist_id)
        playlist = ctx.sim.playlists.get(playlist_id)
        if playlist and playlist.owner_id != ctx.user.id:
            playlist.followers = max(0, playlist.followers - 1)


def _follow(ctx: Ctx, playlist_id: str) -> None:
    if playlist_id not in ctx.user.library:
        ctx.user.library.insert(0, playlist_id)
        playlist = ctx.sim.playlists[playlist_id]
        if playlist.owner_id != ctx.user.id:
            playlist.followers += 1


async def unfollow_playlist(ctx: Ctx) -> Response:
    _unfollow(ctx, readable(ctx).id)
    return Response(status_code=200)


async def follow_playlist(ctx: Ctx) -> Response:
    _follow(ctx, readable(ctx).id)
    return Response(status_code=200)


def _library_uris(ctx: Ctx) -> list[tuple[str, str]]:
    uris = [part.strip() for part in ctx.required("uris").split(",") if part.strip()]
    if len(uris) > MAX_LIBRARY_URIS:
        raise bad_request(f"Too many uris: at most {MAX_LIBRARY_URIS}")
    parsed = []
    for uri in uris:
        kind, _, ident = uri.removeprefix("spotify:").partition(":")
        valid_kind = kind in ("track", "album", "episode", "show", "audiobook", "user", "playlist")
        if not uri.startswith("spotify:") or not valid_kind or not ident:
            raise bad_request(f"Invalid uri: {uri}")
        if kind == "playlist" and ident not in ctx.sim.playlists:
            raise not_found(f"Playlist not found: {uri}")
        parsed.append((kind, ident))
    return parsed


async def library_remove(ctx: Ctx) -> Response:
    for kind, ident in _library_uris(ctx):
        if kind == "playlist":
            _unfollow(ctx, ident)
    return Response(status_code=200)


async def library_save(ctx: Ctx) -> Response:
    for kind, ident in _library_uris(ctx):
        if kind == "playlist":
            _follow(ctx, ident)
    return Response(status_code=200)


def _item_uris(ctx: Ctx, raw: object) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise bad_request("Missing required field: uris")
    if len(raw) > MAX_ITEMS_PER_CALL:
        raise bad_request(f"You can add a maximum of {MAX_ITEMS_PER_CALL} tracks per request.")
    for uri in raw:
        if ctx.sim.catalog.track(track_uri_id(uri)) is None:
            raise bad_request(f"Payload contains a non-existing ID: {uri}")
    return list(raw)


async def _uris_and_position(ctx: Ctx) -> tuple[list[str], int | None, dict[str, Any]]:
    body = await ctx.json_body(array_key="uris")
    query_uris = ctx.query("uris")
    raw: object = [u for u in query_uris.split(",") if u] if query_uris else body.get("uris")
    raw_position = ctx.query("position")
    if raw_position is None:
        raw_position = body.get("position")
    position = None if raw_position is None else parse_int(raw_position, "position", 0, 10**9)
    return _item_uris(ctx, raw), position, body


async def add_items(ctx: Ctx) -> Response:
    playlist = writable(ctx)
    uris, position, _ = await _uris_and_position(ctx)
    if position is not None and position > len(playlist.entries):
        raise bad_request("Index out of bounds")
    at = len(playlist.entries) if position is None else position
    added = utc_iso(ctx.now)
    playlist.entries[at:at] = [PlaylistEntry(uri, added, ctx.user.id) for uri in uris]
    playlist.touch()
    return json_response({"snapshot_id": playlist.snapshot_id}, 201)


async def remove_items(ctx: Ctx) -> Response:
    playlist = writable(ctx)
    body = await ctx.json_body()
    raw = body.get("items", body.get("tracks"))
    if not isinstance(raw, list) or not raw:
        raise bad_request("Missing required field: items")
    if len(raw) > MAX_ITEMS_PER_CALL:
        raise bad_request(f"You can remove a maximum of {MAX_ITEMS_PER_CALL} tracks per request.")
    doomed: set[int] = set()
    for item in raw:
        doomed |= _positions_removed(ctx, playlist, item)
    playlist.entries = [e for i, e in enumerate(playlist.entries) if i not in doomed]
    playlist.touch()
    return json_response({"snapshot_id": playlist.snapshot_id})


def _positions_removed(ctx: Ctx, playlist: Playlist, item: object) -> set[int]:
    """The positions one item of a removal names: its ``positions`` (each holding its
    ``uri``), else every position its ``uri`` is at."""
    if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
        raise bad_request("Invalid items: each needs a uri")
    uri = item["uri"]
    _item_uris(ctx, [uri])
    positions = item.get("positions")
    if positions is None:
        return {i for i, entry in enumerate(playlist.entries) if entry.uri == uri}
    if not isinstance(positions, list):
        raise bad_request("Invalid positions")
    return {_position_of(playlist, uri, raw_index) for raw_index in positions}


def _position_of(playlist: Playlist, uri: str, raw_index: object) -> int:
    index = parse_int(raw_index, "positions", 0, len(playlist.entries) - 1)
    if playlist.entries[index].uri != uri:
        raise bad_request(f"Could not remove tracks, please check parameters: {uri} at {index}")
    return index


async def update_items(ctx: Ctx) -> Response:
    """Replace the items (``uris``) or move a range (``range_start``, ``insert_before``)."""
    playlist = writable(ctx)
    body = await ctx.json_body()
    if ctx.query("uris") is not None or "uris" in body:
        _replace_items(ctx, playlist, body)
    else:
        _move_range(playlist, body)
    playlist.touch()
    return json_response({"snapshot_id": playlist.snapshot_id})


def _replace_items(ctx: Ctx, playlist: Playlist, body: dict[str, Any]) -> None:
    """The playlist's items become ``uris`` (of the query, else of the body)."""
    query_uris = ctx.query("uris")
    raw = [u for u in query_uris.split(",") if u] if query_uris is not None else body.get("uris")
    uris = _item_uris(ctx, raw) if raw else []
    added = utc_iso(ctx.now)
    playlist.entries = [PlaylistEntry(uri, added, ctx.user.id) for uri in uris]


def _move_range(playlist: Playlist, body: dict[str, Any]) -> None:
    """Move ``range_length`` items from ``range_start`` to before ``insert_before``."""
    size = len(playlist.entries)
    if "range_start" not in body or "insert_before" not in body:
        raise bad_request("Missing required field: uris or range_start and insert_before")
    start = parse_int(body["range_start"], "range_start", 0, max(0, size - 1))
    length = parse_int(body.get("range_length", 1), "range_length", 1, size - start)
    before = parse_int(body["insert_before"], "insert_before", 0, size)
    moved = playlist.entries[start : start + length]
    rest = playlist.entries[:start] + playlist.entries[start + length :]
    at = before if before <= start else before - length
    playlist.entries = rest[:at] + moved + rest[at:]


def routes(sim: SimulatorState) -> list[Route]:
    def both(
        method: str, handler_for: Callable[[str], Handler], scopes: tuple[str, ...]
    ) -> list[Route]:
        """The same operation on ``/items`` and on its deprecated ``/tracks`` twin."""
        return [
            api_route(
                sim, method, "/playlists/{playlist_id}/items", handler_for("items"), scopes=scopes
            ),
            api_route(
                sim,
                method,
                "/playlists/{playlist_id}/tracks",
                deprecated_path(handler_for("tracks")),
                scopes=scopes,
            ),
        ]

    return [
        api_route(sim, "GET", "/me/playlists", my_playlists, scopes=READ),
        api_route(sim, "POST", "/me/playlists", create_playlist, scopes=MODIFY),
        api_route(sim, "POST", "/users/{user_id}/playlists", create_playlist, scopes=MODIFY),
        api_route(sim, "GET", "/playlists/{playlist_id}", get_playlist),
        api_route(sim, "PUT", "/playlists/{playlist_id}", change_details, scopes=MODIFY),
        api_route(sim, "PUT", "/playlists/{playlist_id}/followers", follow_playlist, scopes=MODIFY),
        api_route(
            sim, "DELETE", "/playlists/{playlist_id}/followers", unfollow_playlist, scopes=MODIFY
        ),
        api_route(sim, "PUT", "/me/library", library_save, scopes=LIBRARY_MODIFY),
        api_route(sim, "DELETE", "/me/library", library_remove, scopes=LIBRARY_MODIFY),
        *both("GET", _items_reader, READ),
        *both("POST", lambda _path: add_items, MODIFY),
        *both("DELETE", lambda _path: remove_items, MODIFY),
        *both("PUT", lambda _path: update_items, MODIFY),
    ]
