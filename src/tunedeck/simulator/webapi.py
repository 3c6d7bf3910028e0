"""The Web API door: authentication, scopes, faults and stats around every ``/v1`` route,
request parsing helpers, and the small read endpoints (profile, search, tracks)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tunedeck.simulator import faults
from tunedeck.simulator.catalog import ID_PATTERN
from tunedeck.simulator.errors import SpotifyError, bad_request, json_response
from tunedeck.simulator.serialize import JSON, Renderer
from tunedeck.simulator.state import SimulatorState
from tunedeck.simulator.store import User
from tunedeck.simulator.tokens import AccessToken

_MARKET = re.compile(r"^[A-Z]{2}$")

SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
#: Search may page this deep at most (offset + limit), as on Spotify.
SEARCH_DEPTH = 1000


def origin_of(request: Request) -> str:
    """Scheme, host and mount prefix of this request: where generated URLs must point."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}"


@dataclass
class Ctx:
    """One authenticated Web API request."""

    request: Request
    sim: SimulatorState
    user: User
    token: AccessToken
    render: Renderer

    @property
    def now(self) -> float:
        return self.sim.now()

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def required(self, name: str) -> str:
        value = self.query(name)
        if value is None or value == "":
            raise bad_request(f"Missing required parameter: {name}")
        return value

    def int_query(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        return parse_int(raw, name, low, high)

    async def json_body(self, *, array_key: str | None = None) -> dict[str, Any]:
        return await read_json_object(self.request, array_key=array_key)

    def market(self) -> str | None:
        """The ``market`` asked for: a country code, ``from_token`` (the user's country),
        or None when absent; anything else is a 400, as on Spotify."""
        raw = self.query("market")
        if raw is None or raw == "":
            return None
        if raw == "from_token":
            return self.user.country
        if not _MARKET.match(raw):
            raise bad_request("Invalid market code")
        return raw


async def read_json_object(request: Request, *, array_key: str | None = None) -> dict[str, Any]:
    """The request's JSON object body; an absent body is an empty object.

    With ``array_key``, a bare JSON array is accepted as that field: Spotify takes
    ``["spotify:track:..."]`` for ``{"uris": [...]}`` when adding playlist items,
    and long-standing clients (spotipy) send it that way.
    """
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("Error parsing json") from None
    if array_key is not None and isinstance(data, list):
        return {array_key: data}
    if not isinstance(data, dict):
        raise bad_request("Error parsing json: expected an object")
    return data


def parse_int(raw: object, name: str, low: int, high: int) -> int:
    """An integer parameter within [low, high], else 400 ``Invalid <name>``."""
    if isinstance(raw, bool):
        raise bad_request(f"Invalid {name}")
    try:
        value = int(raw) if isinstance(raw, int | str) else int(str(raw))
    except ValueError:
        raise bad_request(f"Invalid {name}") from None
    if not low <= value <= high:
        raise bad_request(f"Invalid {name}")
    return value


def str_field(body: dict[str, Any], name: str) -> str | None:
    """An optional string field of a JSON body, else 400 ``Invalid <name>``."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"Invalid {name}")
    return value


Handler = Callable[[Ctx], Awaitable[Response | None]]
NOT_REGISTERED = "User not registered in the Developer Dashboard"
"""Spotify's answer to a user missing from a development-mode app's users."""


def authenticate(sim: SimulatorState, request: Request) -> AccessToken:
    """The bearer token of ``request``, or the 401 Spotify answers."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        raise SpotifyError(401, "No token provided")
    if scheme.lower() != "bearer" or not value.strip():
        raise SpotifyError(400, "Only valid bearer authentication supported")
    token = sim.tokens.access.get(value.strip())
    if token is None or token.user_id not in sim.users:
        raise SpotifyError(401, "Invalid access token")
    if token.expires_at <= sim.now():
        raise SpotifyError(401, "The access token expired")
    app = sim.apps.get(token.client_id)
    if app is not None and app.users is not None and token.user_id not in app.users:
        raise SpotifyError(403, NOT_REGISTERED)
    return token


async def _json_or_none(request: Request) -> Any:
    """The body as JSON for the request log (the raw text when it is not JSON)."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def api_route(
    sim: SimulatorState,
    method: str,
    template: str,
    handler: Handler,
    *,
    scopes: tuple[str, ...] = (),
    command: bool = False,
) -> Route:
    """A ``/v1`` route: stats, hold, latency, auth, limits, scope check, then ``handler``.

    ``scopes``: any one of them grants access. ``command``: a player command, whose
    success answer follows the ``command_status`` knob (handlers return None).
    """
    key = f"{method} /v1{template}"
    needed = frozenset(scopes)

    async def endpoint(request: Request) -> Response:
        stats = sim.stats
        stats.requests[key] += 1
        stats.record(
            method, request.url.path, dict(request.query_params), await _json_or_none(request)
        )
        stats.enter()
        try:
            await faults.hold(sim, stats)
            await faults.held(sim)
            return await answer(request)
        finally:
            stats.leave()

    async def answer(request: Request) -> Response:
        try:
            await faults.delay(sim)
            token = authenticate(sim, request)
            faults.check_limits(sim, token.client_id)
            if needed and not needed & token.scopes:
                raise SpotifyError(403, "Insufficient client scope")
            ctx = Ctx(
                request=request,
                sim=sim,
                user=sim.users[token.user_id],
                token=token,
                render=sim.renderer(origin_of(request)),
            )
            response = await handler(ctx)
        except SpotifyError as exc:
            return exc.response()
        if response is None:
            return faults.command_response(sim) if command else Response(status_code=204)
        return response

    return Route(f"/v1{template}", endpoint, methods=[method], name=key)


# -- profile, catalog, search -------------------------------------------------------


async def get_me(ctx: Ctx) -> Response:
    return json_response(ctx.render.me(ctx.user))


async def get_user(ctx: Ctx) -> Response:
    user_id = ctx.request.path_params["user_id"]
    user = ctx.sim.users.get(user_id)
    if user is None:
        raise SpotifyError(404, "Resource not found")
    return json_response(
        {
            **ctx.render.user_ref(user.id, user.display_name, owner=True),
            "followers": {"href": None, "total": 0},
            "images": [],
        }
    )


def track_uri_id(uri: object) -> str:
    """The id of a well-formed ``spotify:track:{id}`` uri, else 400 ``Invalid track uri``."""
    ident = uri.removeprefix("spotify:track:") if isinstance(uri, str) else ""
    if not isinstance(uri, str) or ident == uri or not ID_PATTERN.match(ident):
        raise bad_request(f"Invalid track uri: {uri}")
    return ident


def track_id_of(raw: str) -> str:
    if not ID_PATTERN.match(raw):
        raise bad_request("Invalid base62 id")
    return raw


async def get_track(ctx: Ctx) -> Response:
    market = ctx.market()
    track = ctx.sim.catalog.track(track_id_of(ctx.request.path_params["id"]))
    if track is None:
        raise SpotifyError(404, "Resource not found")
    return json_response(ctx.render.track(track, market))


async def get_tracks(ctx: Ctx) -> Response:
    market = ctx.market()
    ids = [part for part in ctx.required("ids").split(",") if part]
    if len(ids) > 50:
        raise bad_request("Too many ids requested")
    tracks = [ctx.sim.catalog.track(track_id_of(ident)) for ident in ids]
    return json_response({"tracks": [ctx.render.track(t, market) if t else None for t in tracks]})


def _search_types(ctx: Ctx) -> list[str]:
    types = [part.strip() for part in ctx.required("type").split(",")]
    if not types or any(kind not in SEARCH_TYPES for kind in types):
        raise bad_request("Bad search type field")
    return types


def _search_window(ctx: Ctx) -> tuple[int, int]:
    """The page asked for: ``limit`` and ``offset``, within the depth search reaches."""
    # Development-mode apps may ask for 10 results at most (Spotify's 2026 rule).
    dev = ctx.sim.config.development_mode
    limit = ctx.int_query("limit", 5 if dev else 20, 1, 10 if dev else 50)
    offset = ctx.int_query("offset", 0, 0, SEARCH_DEPTH)
    if offset + limit > SEARCH_DEPTH:
        raise bad_request("Invalid offset")
    return limit, offset


def _found_tracks(
    ctx: Ctx, query: str, offset: int, limit: int, market: str | None
) -> tuple[list[JSON], int]:
    found = ctx.sim.catalog.search(query)
    items = [ctx.render.track(track, market) for track in found[offset : offset + limit]]
    return items, min(len(found), SEARCH_DEPTH)


async def search(ctx: Ctx) -> Response:
    # Spotify's own ``next`` links name the query ``query``, and it takes them back.
    query = ctx.query("q") or ctx.query("query")
    if not query or not query.strip():
        raise bad_request("No search query")
    types = _search_types(ctx)
    limit, offset = _search_window(ctx)
    market = ctx.market()
    base = f"{ctx.render.api}/search"
    params = {"query": query, "type": ",".join(types)}
    if market is not None:
        params["market"] = ctx.query("market") or market
    result: dict[str, Any] = {}
    for kind in types:
        # Only tracks are simulated; other kinds answer empty pages of the right shape.
        found = _found_tracks(ctx, query, offset, limit, market) if kind == "track" else ([], 0)
        items, total = found
        result[f"{kind}s"] = ctx.render.page(
            base, items, offset=offset, limit=limit, total=total, query=params
        )
    return json_response(result)


def routes(sim: SimulatorState) -> list[Route]:
    return [
        api_route(sim, "GET", "/me", get_me),
        api_route(sim, "GET", "/users/{user_id}", get_user),
        api_route(sim, "GET", "/tracks/{id}", get_track),
        api_route(sim, "GET", "/tracks", get_tracks),
        api_route(sim, "GET", "/search", search),
    ]
