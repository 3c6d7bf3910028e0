"""Freshness of the live feed: from a change in Spotify to the ``now_playing`` a client gets.

A real ``tunedeck demo`` (serve with its poller, the simulator on a real clock) and a
WebSocket feed client. Two kinds of change:

- a skip made "in the Spotify app" (the simulator's control API), timed from the skip
  to the feed's ``now_playing`` showing the new track;
- a natural track end (a seek "in the app" to a few seconds before the end first), timed
  from the expected end (the feed's progress and duration) to the new track.

Baseline, in the same run and watching the same simulator: a plain poller that reads
``GET /me/player`` every 3 s. Printed: p50 / p95 / max per kind for both, and Spotify
calls per playing account per hour (TuneDeck's are the simulator's player reads minus
the baseline's own). Goals: natural end p95 <= 1 s, external change p95 <= 3.5 s,
<= 1,300 calls per hour.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.demo_process import Demo, start_demo

EXTERNAL_CHANGES = 10
NATURAL_ENDS = 5
BEFORE_END_MS = 6000  # a natural end is set up by seeking this far before it
BASELINE_PERIOD = 3.0
STEADY_SECONDS = 90.0
PLAYER_READ = "GET /v1/me/player"


@dataclass
class Watcher:
    """When each track uri was first seen (wall clock, seconds)."""

    seen: dict[str, float] = field(default_factory=dict)
    current: str | None = None

    def saw(self, uri: str | None, at: float) -> None:
        if uri is not None and uri != self.current:
            self.seen.setdefault(uri, at)
        self.current = uri


@dataclass
class Feed:
    """The feed client's view: the latest now_playing and when each track appeared."""

    watcher: Watcher = field(default_factory=Watcher)
    latest: dict[str, Any] | None = None
    updated: asyncio.Event = field(default_factory=asyncio.Event)
    durations_ms: dict[str, int] = field(default_factory=dict)


def _uri(now_playing: dict[str, Any] | None) -> str | None:
    track = (now_playing or {}).get("track")
    return str(track["uri"]) if track else None


async def _read_feed(socket: ClientConnection, feed: Feed) -> None:
    async for raw in socket:
        message = json.loads(raw)
        if message.get("type") != "now_playing":
            continue
        feed.latest = message
        uri = _uri(message.get("now_playing"))
        feed.watcher.saw(uri, time.time())
        duration = ((message.get("now_playing") or {}).get("track") or {}).get("duration_ms")
        if uri is not None and isinstance(duration, int):
            feed.durations_ms[uri] = duration
        feed.updated.set()


async def _baseline(
    http: httpx.AsyncClient, token: str, watcher: Watcher, calls: list[int]
) -> None:
    """The plain poller: read the player every 3 s, note when a track first shows."""
    while True:
        response = await http.get(
            "/spotify-sim/v1/me/player",
            params={"additional_types": "track,episode"},
            headers={"Authorization": f"Bearer {token}"},
        )
        calls[0] += 1
        if response.status_code == 200:
            watcher.saw(_uri({"track": response.json().get("item")}), time.time())
        await asyncio.sleep(BASELINE_PERIOD)


async def _until_new_track(feed: Feed, before: str | None, limit: float = 30.0) -> str:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        feed.updated.clear()
        uri = _uri(feed.latest.get("now_playing") if feed.latest else None)
        if uri is not None and uri != before:
            return uri
        try:
            await asyncio.wait_for(feed.updated.wait(), deadline - time.monotonic())
        except TimeoutError:
            break
    raise RuntimeError("the feed never showed the next track")


async def _app(http: httpx.AsyncClient, demo: Demo, **action: Any) -> None:
    response = await http.post(demo.sim("/app-actions"), json=action)
    response.raise_for_status()


def _summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"  {name:<34} p50 {statistics.median(ordered):6.2f} s  p95 {p95:6.2f} s  "
        f"max {ordered[-1]:6.2f} s  (n={len(ordered)})"
    )


async def _run(demo: Demo) -> None:
    async with httpx.AsyncClient(base_url=demo.origin, timeout=30) as http:
        token = (await http.post("/spotify-sim/_sim/tokens", json={"user": "demo"})).json()
        baseline_watcher, baseline_calls = Watcher(), [0]
        feed = Feed()
        ws_url = demo.origin.replace("http", "ws", 1) + "/v1/spotify/live"
        async with connect(ws_url, additional_headers=demo.headers) as socket:
            reader = asyncio.create_task(_read_feed(socket, feed))
            await _until_new_track(feed, None)
            stats_before = (await http.get("/spotify-sim/_sim/stats")).json()["requests"]
            started = time.time()
            baseline = asyncio.create_task(
                _baseline(http, token["access_token"], baseline_watcher, baseline_calls)
            )
            tuned: dict[str, list[float]] = {"external": [], "natural": []}
            plain: dict[str, list[float]] = {"external": [], "natural": []}
            rng = random.Random(7)
            try:
                for _ in range(EXTERNAL_CHANGES):
                    await asyncio.sleep(rng.uniform(2.0, 6.0))
                    before = _uri(feed.latest.get("now_playing") if feed.latest else None)
                    changed_at = time.time()
                    await _app(http, demo, action="next")
                    uri = await _until_new_track(feed, before)
                    tuned["external"].append(feed.watcher.seen[uri] - changed_at)
                    await asyncio.sleep(BASELINE_PERIOD + 0.5)
                    if uri in baseline_watcher.seen:
                        plain["external"].append(baseline_watcher.seen[uri] - changed_at)
                for _ in range(NATURAL_ENDS):
                    latest = feed.latest or {}
                    playing = latest.get("now_playing") or {}
                    before = _uri(playing)
                    duration = int((playing.get("track") or {}).get("duration_ms") or 0)
                    await _app(http, demo, action="seek", position_ms=duration - BEFORE_END_MS)
                    seek_at = time.time()
                    uri = await _until_new_track(feed, before)
                    expected_end = seek_at + BEFORE_END_MS / 1000
                    tuned["natural"].append(feed.watcher.seen[uri] - expected_end)
                    await asyncio.sleep(BASELINE_PERIOD + 0.5)
                    if uri in baseline_watcher.seen:
                        plain["natural"].append(baseline_watcher.seen[uri] - expected_end)
            finally:
                baseline.cancel()
                reader.cancel()
            elapsed = time.time() - started
            stats_after = (await http.get("/spotify-sim/_sim/stats")).json()["requests"]
            steady = await _steady_reads(http)
    reads = stats_after.get(PLAYER_READ, 0) - stats_before.get(PLAYER_READ, 0)
    tunedeck_reads = reads - baseline_calls[0]
    dense_calls = tunedeck_reads / elapsed * 3600
    plain_calls = baseline_calls[0] / elapsed * 3600
    steady_calls = steady / STEADY_SECONDS * 3600
    changes = EXTERNAL_CHANGES + NATURAL_ENDS
    extra_per_change = (tunedeck_reads - steady / STEADY_SECONDS * elapsed) / changes
    mean_track_s = statistics.mean(feed.durations_ms.values()) / 1000
    listening_calls = steady_calls + extra_per_change * 3600 / mean_track_s
    print("TuneDeck (smart poller -> live feed):")
    print(_summary("external change (app skip)", tuned["external"]))
    print(_summary("natural track end", tuned["natural"]))
    print("  Spotify player reads per playing account per hour:")
    print(f"    during the changes ({changes / elapsed * 3600:.0f} changes/h): {dense_calls:.0f}")
    print(f"    steady playback, nothing touched ({STEADY_SECONDS:.0f} s): {steady_calls:.0f}")
    print(f"    extra reads per track change: {extra_per_change:.2f}")
    print(
        f"    listening to these tracks back to back (mean {mean_track_s:.0f} s, "
        f"{3600 / mean_track_s:.0f} changes/h): {listening_calls:.0f}"
    )
    print("Baseline (plain 3 s poller, same run):")
    print(_summary("external change (app skip)", plain["external"]))
    print(_summary("natural track end", plain["natural"]))
    print(f"  Spotify player reads per hour: {plain_calls:.0f}")
    p95 = {k: sorted(v)[round(0.95 * (len(v) - 1))] for k, v in tuned.items()}
    base95 = {k: sorted(v)[round(0.95 * (len(v) - 1))] for k, v in plain.items() if v}
    print(
        f"goals: natural end p95 {p95['natural']:.2f} s (<= 1 s), external p95 "
        f"{p95['external']:.2f} s (<= 3.5 s), {listening_calls:.0f} calls/h listening "
        f"(<= 1300; {listening_calls / plain_calls:.2f}x the plain poller); "
        f"natural end p95 vs baseline: {p95['natural']:.2f} / {base95.get('natural', 0):.2f} s"
    )


async def _steady_reads(http: httpx.AsyncClient) -> int:
    """TuneDeck's player reads over ``STEADY_SECONDS`` of playback nobody touches (the
    baseline poller is stopped by then)."""
    before = (await http.get("/spotify-sim/_sim/stats")).json()["requests"]
    await asyncio.sleep(STEADY_SECONDS)
    after = (await http.get("/spotify-sim/_sim/stats")).json()["requests"]
    return int(after.get(PLAYER_READ, 0) - before.get(PLAYER_READ, 0))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        demo = start_demo(Path(tmp))
        try:
            asyncio.run(_run(demo))
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
