"""Helpers of the player tests: the simulator's view, events as stored, request counting."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.support.simulator import Sim


def upstream_requests(sim: Sim) -> int:
    """How many Web API requests the simulator has received since its last reset."""
    return int(sim.stats()["total"])


async def events_of(
    client: httpx.AsyncClient, headers: dict[str, str], *, count: int, wait: float = 10
) -> list[dict[str, Any]]:
    """The account's stored events (newest first) once at least ``count`` have arrived."""
    deadline = time.monotonic() + wait
    while True:
        response = await client.get("/v1/spotify/events", headers=headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        await asyncio.sleep(0.05)


def catalog_tracks(sim: Sim, count: int, *, skip: int = 0) -> list[str]:
    """Track uris of the catalog that are not in the demo user's current context."""
    playing = set(sim.playback()["upcoming"]) | {sim.playback()["track_uri"]}
    uris = [f"spotify:track:{t.id}" for t in sim.state.catalog.tracks]
    return [u for u in uris if u not in playing][skip : skip + count]
