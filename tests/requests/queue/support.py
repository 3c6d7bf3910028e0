"""Helpers of the queue tests: viewers, catalog songs, settings documents."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.simulator import Sim
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.matching import Matcher, Result
from tunedeck.requests.parsing import ParsedRequest
from tunedeck.requests.viewers import Role, Viewer
from tunedeck.spotify.client import SpotifyClient

SEARCH = "GET /v1/search"
SEVEN_MINUTES = 7 * 60_000


def viewer(name: str = "ana", role: Role = Role.REGULAR, *, ident: str | None = None) -> Viewer:
    return Viewer(
        platform="twitch",
        id=ident if ident is not None else f"id-{name}",
        login=name,
        display_name=name.title(),
        role=role,
        claimed=role,
    )


def songs(sim: Sim, count: int, *, explicit: bool = False) -> list[str]:
    """Links to ``count`` distinct catalog songs, playable anywhere and short enough."""
    playback = sim.playback()
    playing = set(playback["upcoming"]) | {playback["track_uri"]}
    versions = {version.track.id for version in sim.state.catalog.versions}
    found = [
        track
        for track in sim.state.catalog.tracks
        if track.explicit == explicit
        and track.markets is None
        and track.duration_ms <= SEVEN_MINUTES
        and track.id not in versions
        and track.uri not in playing
    ]
    return [f"https://open.spotify.com/track/{track.id}?si=abc" for track in found[:count]]


def track_id(link: str) -> str:
    return link.split("/track/")[1].split("?")[0]


def rules(**regular: Any) -> dict[str, Any]:
    """A settings document whose regular viewers follow ``regular`` (the rest default)."""
    return {"roles": {"regular": regular}}


class MeetingMatcher(Matcher):
    """A matcher whose lookups wait for each other at a barrier once resolved, so that
    concurrent submissions reach the queue lock together."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = asyncio.Barrier(parties)

    async def resolve(
        self,
        client: SpotifyClient,
        account: str,
        request: ParsedRequest,
        *,
        allow_explicit: bool = True,
        country: str | None = None,
    ) -> Result:
        result = await super().resolve(
            client, account, request, allow_explicit=allow_explicit, country=country
        )
        async with asyncio.timeout(30):
            await self.barrier.wait()
        return result


def with_matcher(ctx: RequestsContext, matcher: Matcher) -> RequestsContext:
    return RequestsContext(ctx.principal, ctx.units, ctx.clients, ctx.cache, matcher)
