"""What one click on the dashboard's player costs at Spotify: the page learns the outcome
from its optimistic update and the live feed (the poller's burst after the command), not
by reading the state back.

The demo here polls on its regular cadence only every ten minutes, so every read the
simulator sees around a click is the click's: the read before the command (the event
names the track it acted on), the poller's burst after it (+0.3 s, +1.5 s) and, for a
skip, the queue panel's reload. A click is counted once the simulator has seen no read
for a while (``QUIET``): that is waiting, not a measure; what is asserted is a count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DemoServer
from tests.browser.dashboard_support import (
    LIVE_TIMEOUT_MS,
    Sim,
    new_context,
    sign_in,
    sim_has,
)
from tests.support.demo import start_demo

pytestmark = pytest.mark.browser

SLOW_POLLS = {
    "TUNEDECK_POLL_PLAYING_SECONDS": "600",
    "TUNEDECK_POLL_PAUSED_SECONDS": "600",
    "TUNEDECK_POLL_IDLE_SECONDS": "600",
}
QUIET = 3.0
"""Seconds without a Spotify read after which a click's reads are all in: longer than the
burst's last poll (+1.5 s) and than any debounced read of the page."""

PLAYER_READS = "GET /v1/me/player"


def player_reads(sim: Sim) -> int:
    """``GET /v1/me/player*`` requests the simulator has answered (every route under it)."""
    requests: dict[str, int] = sim.stats()["requests"]
    return sum(n for route, n in requests.items() if route.startswith(PLAYER_READS))


def settled(sim: Sim, timeout: float = LIVE_TIMEOUT_MS / 1000) -> int:
    """Wait until the simulator has seen no player read for ``QUIET`` seconds; the count."""
    deadline = time.monotonic() + timeout
    count, since = player_reads(sim), time.monotonic()
    while time.monotonic() - since < QUIET:
        if time.monotonic() > deadline:
            raise AssertionError("Spotify reads never stopped")
        time.sleep(0.1)
        now = player_reads(sim)
        if now != count:
            count, since = now, time.monotonic()
    return count


@pytest.fixture(scope="module")
def quiet_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    demo = start_demo(tmp_path_factory.mktemp("quiet-demo"), env=SLOW_POLLS)
    try:
        yield DemoServer(demo.origin, demo.admin_key)
    finally:
        demo.stop()


@pytest.fixture
def page(browser: Browser, quiet_demo: DemoServer) -> Iterator[Page]:
    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    context = new_context(browser, quiet_demo)
    page = context.new_page()
    try:
        sign_in(page, quiet_demo.admin_key)
        expect(page.locator("#link-status")).to_have_text("live")
        expect(page.locator("#np-title")).not_to_have_text("Nothing playing")
        yield page
    finally:
        context.close()


@pytest.fixture
def sim(quiet_demo: DemoServer) -> Sim:
    sim = Sim(quiet_demo.origin)
    # Far from the track's end: no end-of-track poll during the test.
    sim.app_action("seek", position_ms=0)
    if not sim.playback()["is_playing"]:
        sim.app_action("play")
    return sim


def test_next_costs_the_read_before_the_burst_and_the_queue(page: Page, sim: Sim) -> None:
    before = settled(sim)
    title = page.locator("#np-title").inner_text()
    track = sim.playback()["track_uri"]
    page.locator("#btn-next").click()
    sim_has(sim, "the next track", lambda p: p["track_uri"] != track)
    expect(page.locator("#np-title")).not_to_have_text(title)
    # The read before the command, the burst's two polls, the queue panel's reload.
    assert settled(sim) - before == 4


def test_pause_costs_the_read_before_and_the_burst(page: Page, sim: Sim) -> None:
    before = settled(sim)
    page.locator("#btn-play").click()
    sim_has(sim, "paused", lambda p: not p["is_playing"])
    expect(page.locator("#btn-play")).to_have_attribute("aria-label", "Play")
    # The read before the command and the burst's two polls.
    assert settled(sim) - before == 3
