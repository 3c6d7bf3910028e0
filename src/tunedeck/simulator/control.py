"""The control API under ``/_sim`` (JSON, no auth): what tests and the demo use to steer
the simulator: reset, knobs, clock, tokens, stats, changes made "in the Spotify app"
(playing a show's episodes or local files among them), ad breaks, and the podcast shows.

No page of another site may change anything here (``guards.cross_site``: 403), and
tokens are minted for callers on this machine only (``guards.is_loopback_caller``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tunedeck.simulator.app_actions import apply_app_action, refusals_as_conflict
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_USER
from tunedeck.simulator.errors import SpotifyError, bad_request, json_response
from tunedeck.simulator.guards import cross_site, is_loopback_caller
from tunedeck.simulator.oauth import token_body
from tunedeck.simulator.specs import AppConfig
from tunedeck.simulator.state import SimulatorState, Stats
from tunedeck.simulator.store import User
from tunedeck.simulator.tokens import ALL_SCOPES
from tunedeck.simulator.webapi import parse_int, read_json_object, str_field

#: An ad break started without ``seconds`` lasts this long.
DEFAULT_AD_SECONDS = 30
MAX_AD_SECONDS = 3600

Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(endpoint: Endpoint) -> Endpoint:
    """Refuse a change sent by a page of another site; render SpotifyError raised by a
    control endpoint as its JSON error."""

    async def wrapped(request: Request) -> Response:
        if cross_site(request):
            return SpotifyError(403, "The control API refuses requests from other sites").response()
        try:
            return await endpoint(request)
        except SpotifyError as exc:
            return exc.response()

    return wrapped


def playback_snapshot(sim: SimulatorState, user: User) -> dict[str, Any]:
    """Everything about a user's player, in internal terms, for assertions."""
    player = user.player
    now = sim.now()
    player.settle(now)
    active = user.devices.get(player.device_id or "")
    # During an ad break, the item is the one the ad interrupted, frozen where it resumes.
    item_uri, item_progress = player.item_progress(now)
    ad = {"duration_ms": player.ad_ms, "progress_ms": player.progress_ms(now)}
    return {
        "is_playing": player.is_playing,
        "device_id": player.device_id,
        "device_name": active.name if active else None,
        "currently_playing_type": "ad" if player.in_ad else sim.catalog.item_type(item_uri),
        "track_uri": item_uri,
        "progress_ms": item_progress,
        "duration_ms": sim.catalog.duration_of(item_uri) if item_uri else None,
        "ad": ad if player.in_ad else None,
        "private_session": bool(active and active.is_private_session),
        "context_uri": player.context_uri,
        "queue": list(player.queue),
        "upcoming": player.upcoming(),
        "shuffle": player.shuffle,
        "repeat": player.repeat,
        "volume_percent": active.volume_percent if active else None,
        "devices": [
            {
                "id": device.id,
                "name": device.name,
                "is_active": device.id == player.device_id,
                "is_restricted": device.is_restricted,
                "is_private_session": device.is_private_session,
                "volume_percent": device.volume_percent,
            }
            for device in user.devices.values()
        ],
    }


def routes(sim: SimulatorState) -> list[Route]:
    async def reset(request: Request) -> Response:
        sim.reset()
        return json_response({"ok": True})

    async def get_config(request: Request) -> Response:
        return json_response(sim.config.model_dump(mode="json"))

    async def patch_config(request: Request) -> Response:
        sim.update_knobs(await read_json_object(request))
        return json_response(sim.config.knobs())

    async def advance_clock(request: Request) -> Response:
        body = await read_json_object(request)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise bad_request("seconds must be a number >= 0")
        sim.clock.advance(float(seconds))
        return json_response({"offset": sim.clock.offset, "now": sim.now()})

    async def mint_token(request: Request) -> Response:
        if not is_loopback_caller(request):
            raise SpotifyError(403, "Tokens are minted for callers on this machine only")
        body = await read_json_object(request)
        user_id = str_field(body, "user") or DEMO_USER
        client_id = str_field(body, "client_id") or DEMO_CLIENT_ID
        sim.user(user_id)
        if client_id not in sim.apps:
            raise SpotifyError(404, f"Unknown client: {client_id}")
        scope = str_field(body, "scope")
        scopes = tuple(scope.split()) if scope is not None else tuple(ALL_SCOPES)
        raw_ttl = body.get("expires_in")
        ttl = (
            sim.config.token_ttl_seconds
            if raw_ttl is None
            else parse_int(raw_ttl, "expires_in", 0, 10**9)
        )
        access, refresh = sim.tokens.issue(
            user_id=user_id,
            client_id=client_id,
            scopes=scopes,
            pkce=body.get("pkce") is True,
            ttl=ttl,
            now=sim.now(),
        )
        return json_response(token_body(access.token, scopes, ttl, refresh.token))

    async def put_app(request: Request) -> Response:
        """Create or replace an app, as a developer does on Spotify's dashboard."""
        body = await read_json_object(request)
        try:
            app = AppConfig.model_validate({**body, "client_id": request.path_params["client_id"]})
        except ValidationError as exc:
            raise bad_request(f"Invalid app: {exc.errors()[0]['msg']}") from None
        sim.apps[app.client_id] = app
        return json_response(app.model_dump())

    async def expire_tokens(request: Request) -> Response:
        body = await read_json_object(request)
        token, user_id = str_field(body, "access_token"), str_field(body, "user")
        if token is None and user_id is None:
            raise bad_request("Give access_token or user")
        count = sim.tokens.expire(access_token=token, user_id=user_id, now=sim.now())
        return json_response({"expired": count})

    async def revoke_tokens(request: Request) -> Response:
        body = await read_json_object(request)
        token, user_id = str_field(body, "refresh_token"), str_field(body, "user")
        if token is None and user_id is None:
            raise bad_request("Give refresh_token or user")
        return json_response({"revoked": sim.tokens.revoke(refresh_token=token, user_id=user_id)})

    async def stats(request: Request) -> Response:
        return json_response(sim.stats.snapshot())

    async def requests_log(request: Request) -> Response:
        return json_response(list(sim.stats.log))

    async def reset_stats(request: Request) -> Response:
        sim.stats = Stats()
        return json_response(sim.stats.snapshot())

    async def app_action(request: Request) -> Response:
        user = sim.user(request.path_params["user"])
        apply_app_action(sim, user, await read_json_object(request))
        return json_response(playback_snapshot(sim, user))

    async def playback(request: Request) -> Response:
        return json_response(playback_snapshot(sim, sim.user(request.path_params["user"])))

    async def start_ad(request: Request) -> Response:
        user = sim.user(request.path_params["user"])
        body = await read_json_object(request)
        seconds = body.get("seconds", DEFAULT_AD_SECONDS)
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 < seconds <= MAX_AD_SECONDS
        ):
            raise bad_request(f"seconds must be a number > 0 and <= {MAX_AD_SECONDS}")
        player, now = user.player, sim.now()
        player.settle(now)
        if player.device_id is None:
            raise SpotifyError(409, "No active device for an ad break", "NO_ACTIVE_DEVICE")
        with refusals_as_conflict():
            player.start_ad(now, int(seconds * 1000))
        return json_response(playback_snapshot(sim, user))

    async def end_ad(request: Request) -> Response:
        user = sim.user(request.path_params["user"])
        user.player.end_ad(sim.now())
        return json_response(playback_snapshot(sim, user))

    async def shows(request: Request) -> Response:
        catalog = sim.catalog
        return json_response(
            [
                {
                    "id": show.id,
                    "uri": show.uri,
                    "name": show.name,
                    "publisher": show.publisher,
                    "language": show.language,
                    "episodes": [
                        {
                            "id": episode.id,
                            "uri": episode.uri,
                            "name": episode.name,
                            "duration_ms": episode.duration_ms,
                            "release_date": episode.release_date,
                        }
                        for episode in (catalog.episodes[eid] for eid in show.episode_ids)
                    ],
                }
                for show in catalog.shows.values()
            ]
        )

    async def playlists(request: Request) -> Response:
        user = sim.user(request.path_params["user"])
        visible = [
            p for p in sim.playlists.values() if p.owner_id == user.id or p.id in user.library
        ]
        return json_response(
            [
                {
                    "id": p.id,
                    "uri": p.uri,
                    "name": p.name,
                    "description": p.description,
                    "owner": p.owner_id,
                    "public": p.public,
                    "collaborative": p.collaborative,
                    "in_library": p.id in user.library,
                    "snapshot_id": p.snapshot_id,
                    "track_uris": p.track_uris(),
                }
                for p in visible
            ]
        )

    table: list[tuple[str, str, Endpoint]] = [
        ("POST", "/_sim/reset", reset),
        ("GET", "/_sim/config", get_config),
        ("PATCH", "/_sim/config", patch_config),
        ("POST", "/_sim/clock/advance", advance_clock),
        ("POST", "/_sim/tokens", mint_token),
        ("PUT", "/_sim/apps/{client_id}", put_app),
        ("POST", "/_sim/tokens/expire", expire_tokens),
        ("POST", "/_sim/tokens/revoke", revoke_tokens),
        ("GET", "/_sim/stats", stats),
        ("GET", "/_sim/requests", requests_log),
        ("POST", "/_sim/stats/reset", reset_stats),
        ("POST", "/_sim/users/{user}/app-actions", app_action),
        ("GET", "/_sim/users/{user}/playback", playback),
        ("POST", "/_sim/users/{user}/ad", start_ad),
        ("DELETE", "/_sim/users/{user}/ad", end_ad),
        ("GET", "/_sim/shows", shows),
        ("GET", "/_sim/users/{user}/playlists", playlists),
    ]
    return [Route(path, _guarded(endpoint), methods=[method]) for method, path, endpoint in table]
