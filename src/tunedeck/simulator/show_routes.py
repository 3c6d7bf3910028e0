"""``/v1/shows`` and ``/v1/episodes``: the podcast shows of the catalog and their episodes."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from tunedeck.simulator.catalog import Episode, Show
from tunedeck.simulator.errors import SpotifyError, bad_request, json_response
from tunedeck.simulator.state import SimulatorState
from tunedeck.simulator.webapi import Ctx, api_route, track_id_of

#: At most this many ids in one ``?ids=`` request, as on Spotify.
MAX_IDS = 50


def _show(ctx: Ctx) -> Show:
    show = ctx.sim.catalog.shows.get(track_id_of(ctx.request.path_params["id"]))
    if show is None:
        raise SpotifyError(404, "Resource not found")
    return show


def _ids(ctx: Ctx) -> list[str]:
    ids = [part for part in ctx.required("ids").split(",") if part]
    if len(ids) > MAX_IDS:
        raise bad_request("Too many ids requested")
    return [track_id_of(ident) for ident in ids]


async def get_show(ctx: Ctx) -> Response:
    return json_response(ctx.render.show_full(_show(ctx)))


async def get_show_episodes(ctx: Ctx) -> Response:
    show = _show(ctx)
    limit = ctx.int_query("limit", 20, 1, 50)
    offset = ctx.int_query("offset", 0, 0, 100_000)
    return json_response(ctx.render.show_episodes(show, offset=offset, limit=limit))


async def get_shows(ctx: Ctx) -> Response:
    found = [ctx.sim.catalog.shows.get(ident) for ident in _ids(ctx)]
    return json_response({"shows": [ctx.render.show_simple(s) if s else None for s in found]})


async def get_episode(ctx: Ctx) -> Response:
    episode: Episode | None = ctx.sim.catalog.episodes.get(
        track_id_of(ctx.request.path_params["id"])
    )
    if episode is None:
        raise SpotifyError(404, "Resource not found")
    return json_response(ctx.render.episode(episode))


async def get_episodes(ctx: Ctx) -> Response:
    found = [ctx.sim.catalog.episodes.get(ident) for ident in _ids(ctx)]
    return json_response({"episodes": [ctx.render.episode(e) if e else None for e in found]})


def routes(sim: SimulatorState) -> list[Route]:
    return [
        api_route(sim, "GET", "/shows/{id}", get_show),
        api_route(sim, "GET", "/shows/{id}/episodes", get_show_episodes),
        api_route(sim, "GET", "/shows", get_shows),
        api_route(sim, "GET", "/episodes/{id}", get_episode),
        api_route(sim, "GET", "/episodes", get_episodes),
    ]
