"""The dashboard and the overlay of one account show the same playhead: both draw it from
the shared core's model (clock-synced to the feed's ``server_time``, holding rather than
jumping back a little), so their bars agree within 250 ms, across a seek in the Spotify
app, a seek made on the dashboard and a track change.

The overlay is opened in a frame of the dashboard's page, so one script reads both bars
in the same animation frame: no two wall clocks are compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import mint_overlay_token
from tests.browser.dashboard_support import Sim, wait_until

pytestmark = pytest.mark.browser

AGREEMENT_MS = 250
# Where each page's bar ends, as a fraction of its track (transforms included: what is
# on screen), read from the dashboard and its overlay frame at the same instant.
BARS_JS = """() => {
    const end = (doc, fill, track) => {
        const f = doc.querySelector(fill).getBoundingClientRect();
        const t = doc.querySelector(track).getBoundingClientRect();
        return (f.right - t.left) / t.width;
    };
    const frame = document.querySelector('#overlay-frame').contentDocument;
    return [end(document, '#seek-fill', '.seek-track'),
            end(frame, '#overlay .fill', '#overlay .progress')];
}"""
FRAME_JS = """(url) => {
    const frame = document.createElement('iframe');
    frame.id = 'overlay-frame';
    frame.src = url;
    frame.style.cssText =
        'position:fixed;right:0;bottom:0;width:520px;height:170px;border:0;z-index:50';
    document.body.append(frame);
}"""


def positions(page: Page, duration_ms: int) -> tuple[float, float]:
    dashboard, overlay = page.evaluate(BARS_JS)
    return dashboard * duration_ms, overlay * duration_ms


def gap(page: Page, duration_ms: int) -> tuple[float, float]:
    """Dashboard minus overlay, and the dashboard's position. A message reaches the two
    pages' sockets one after the other: a reading between the two is retaken 40 ms on."""
    dashboard, overlay = positions(page, duration_ms)
    if abs(dashboard - overlay) > AGREEMENT_MS:
        page.wait_for_timeout(40)
        dashboard, overlay = positions(page, duration_ms)
    return dashboard - overlay, dashboard


def assert_agree(page: Page, duration_ms: int, what: str, samples: int = 10) -> float:
    """Both bars, read together ``samples`` times over about 2 s, within AGREEMENT_MS;
    returns the last (dashboard) position."""
    gaps = []
    dashboard = 0.0
    for _ in range(samples):
        difference, dashboard = gap(page, duration_ms)
        gaps.append(round(difference))
        page.wait_for_timeout(200)
    assert max(abs(g) for g in gaps) <= AGREEMENT_MS, f"{what}: dashboard - overlay {gaps}"
    return dashboard


def both_near(page: Page, duration_ms: int, target: float) -> bool:
    """Both bars within a few seconds after ``target``."""
    return all(target <= p <= target + 8_000 for p in positions(page, duration_ms))


def wait_for_jumps(
    page: Page, duration_ms: int, action: Callable[[], object], what: str, *, both: bool
) -> None:
    """Do ``action``, then wait until a bar (``both``: each bar) has jumped: moved more
    than 2 s between two readings 0.1 s apart, the first taken before the action."""
    jumped = [False, False]
    last = positions(page, duration_ms)
    action()

    def check() -> bool:
        nonlocal last
        now = positions(page, duration_ms)
        for index in (0, 1):
            jumped[index] = jumped[index] or abs(now[index] - last[index]) > 2_000
        last = now
        return all(jumped) if both else any(jumped)

    wait_until(check, what)


def overlay_frame_shows(page: Page, uri: str) -> None:
    frame = page.frame_locator("#overlay-frame").locator("#overlay")
    expect(frame).to_have_attribute("data-item", uri)
    expect(frame).to_have_attribute("data-feed", "open")


def playing(sim: Sim) -> dict[str, Any]:
    state = sim.playback()
    if not state["is_playing"]:
        sim.app_action("play")
        state = sim.playback()
    return state


def test_dashboard_and_overlay_show_the_same_position(
    dashboard: Page, dashboard_sim: Sim, demo_server: Any
) -> None:
    sim = dashboard_sim
    state = playing(sim)
    for _ in range(20):  # a track long enough for the seeks below
        if state["duration_ms"] >= 150_000:
            break
        sim.app_action("next")
        state = sim.playback()
    start = 40_000 if sim.playback()["progress_ms"] > 70_000 else 90_000
    sim.app_action("seek", position_ms=start)
    uri, duration = str(state["track_uri"]), int(state["duration_ms"])
    expect(dashboard.locator("#np-duration")).not_to_have_text("0:00")
    dashboard.evaluate(FRAME_JS, mint_overlay_token(demo_server, "side by side").url)
    overlay_frame_shows(dashboard, uri)
    wait_until(lambda: both_near(dashboard, duration, start), "both pages at the start")
    before = assert_agree(dashboard, duration, "playing")

    # A small seek back in the Spotify app (the poller sees it within a cadence).
    # Both pages get the poller's message at once: once one shows it, so does the other.
    wait_for_jumps(
        dashboard,
        duration,
        lambda: sim.app_action("seek", position_ms=int(before) - 3_000),
        "a page showing the seek",
        both=False,
    )
    dashboard.wait_for_timeout(300)
    assert_agree(dashboard, duration, "after a seek back in the Spotify app")

    # A seek made on the dashboard itself (5 s on): the overlay learns it from the feed.
    dashboard.locator("#np-heading").click()
    wait_for_jumps(
        dashboard,
        duration,
        lambda: dashboard.keyboard.press("ArrowRight"),
        "both pages after the dashboard's seek",
        both=True,
    )
    assert_agree(dashboard, duration, "after a seek on the dashboard")

    # A track change.
    sim.app_action("next")
    changed = sim.playback()
    assert changed["track_uri"] != uri
    overlay_frame_shows(dashboard, str(changed["track_uri"]))
    wait_until(
        lambda: (
            dashboard.locator("#seek").get_attribute("aria-valuemax") == str(changed["duration_ms"])
        ),
        "the dashboard on the next track",
    )
    assert_agree(dashboard, int(changed["duration_ms"]), "after a track change")
