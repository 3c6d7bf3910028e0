"""The dashboard's player in Chromium, against ``tunedeck demo`` and its simulator: signing in
with a key, now playing, every playback control (the simulator's state changes and the
page shows it), the keyboard, live changes made "in the Spotify app", signing out."""

from __future__ import annotations

import functools
import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DemoServer
from tests.browser.dashboard_support import Sim, new_context, sim_has, wait_until
from tunedeck.simulator.catalog import LocalFile

pytestmark = pytest.mark.browser


def repeats(sim: Sim, mode: str) -> bool:
    return bool(sim.playback()["repeat"] == mode)


def test_sign_in_keeps_no_key_in_the_browser(browser: Browser, demo_server: DemoServer) -> None:
    context = new_context(browser, demo_server)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator("#signin")).to_be_visible()
        page.locator("#signin-key").fill("tdk_not-a-key")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#signin-error")).to_contain_text("not valid")

        page.locator("#signin-key").fill(demo_server.admin_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#app")).to_be_visible()
        expect(page.locator("#who")).to_contain_text("demo")

        cookie = next(c for c in context.cookies() if c["name"] == "tunedeck_session")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert demo_server.admin_key not in cookie["value"]
        stored = page.evaluate(
            "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
            " document.cookie])"
        )
        assert demo_server.admin_key not in stored
        assert page.locator("#signin-key").input_value() == ""

        # A reload keeps the session (the cookie), without asking for the key again.
        page.reload()
        expect(page.locator("#app")).to_be_visible()
    finally:
        context.close()


def test_now_playing_shows_the_simulators_track(dashboard: Page, dashboard_sim: Sim) -> None:
    sim = dashboard_sim
    playing = sim.playback()
    expect(dashboard.locator("#np-device")).to_contain_text(playing["device_name"])
    expect(dashboard.locator("#np-art")).to_have_attribute("src", re.compile(r"/images/"))
    expect(dashboard.locator("#np-title")).not_to_have_text("Nothing playing")
    duration = dashboard.locator("#np-duration").inner_text()
    assert re.fullmatch(r"\d+:\d\d", duration)
    # Progress moves by itself between updates (interpolated).
    seek = dashboard.locator("#seek")
    first = int(seek.get_attribute("aria-valuenow") or 0)
    wait_until(
        lambda: (
            int(seek.get_attribute("aria-valuenow") or 0) > first
            or not sim.playback()["is_playing"]
        ),
        "the progress bar advancing",
    )


def test_play_pause_next_previous(dashboard: Page, dashboard_sim: Sim) -> None:
    sim = dashboard_sim
    play = dashboard.locator("#btn-play")
    if not sim.playback()["is_playing"]:
        play.click()
        sim_has(sim, "playing", lambda p: p["is_playing"])
    expect(play).to_have_attribute("aria-label", "Pause")

    play.click()
    sim_has(sim, "paused", lambda p: not p["is_playing"])
    expect(play).to_have_attribute("aria-label", "Play")

    play.click()
    sim_has(sim, "playing again", lambda p: p["is_playing"])
    expect(play).to_have_attribute("aria-label", "Pause")

    before = sim.playback()["track_uri"]
    title_before = dashboard.locator("#np-title").inner_text()
    dashboard.locator("#btn-next").click()
    sim_has(sim, "the next track", lambda p: p["track_uri"] != before)
    expect(dashboard.locator("#np-title")).not_to_have_text(title_before)

    after_next = sim.playback()["track_uri"]
    dashboard.locator("#btn-prev").click()
    sim_has(sim, "the previous track", lambda p: p["track_uri"] != after_next)
    expect(dashboard.locator("#np-title")).to_have_text(title_before)


def test_shuffle_repeat_volume_seek(dashboard: Page, dashboard_sim: Sim) -> None:
    sim = dashboard_sim
    shuffle = dashboard.locator("#btn-shuffle")
    was = sim.playback()["shuffle"]
    shuffle.click()
    sim_has(sim, "shuffle toggled", lambda p: p["shuffle"] is not was)
    expect(shuffle).to_have_attribute("aria-pressed", str(not was).lower())
    shuffle.click()
    sim_has(sim, "shuffle back", lambda p: p["shuffle"] is was)

    repeat = dashboard.locator("#btn-repeat")
    modes = {"off": "context", "context": "track", "track": "off"}
    mode: str = sim.playback()["repeat"]
    for _ in range(3):
        wanted = modes[mode]
        repeat.click()
        wait_until(functools.partial(repeats, sim, wanted), f"repeat {wanted}")
        expect(repeat).to_have_attribute("data-mode", wanted)
        mode = wanted

    # The slider sends one call once it settles, not one per step.
    volume = dashboard.locator("#volume")
    volume.fill("23")
    sim_has(sim, "volume 23", lambda p: p["volume_percent"] == 23)
    expect(dashboard.locator("#volume-value")).to_have_text("23%")

    # Seek by clicking three quarters along the bar.
    bar = dashboard.locator("#seek")
    box = bar.bounding_box()
    assert box is not None
    duration = sim.playback()["duration_ms"]
    dashboard.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    sim_has(
        sim,
        "seeked to about 75%",
        lambda p: abs(p["progress_ms"] - duration * 0.75) < duration * 0.1,
    )

    # And by dragging from there back to a quarter.
    dashboard.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    dashboard.mouse.down()
    dashboard.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2, steps=5)
    dashboard.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2, steps=5)
    dashboard.mouse.up()
    sim_has(
        sim,
        "dragged to about 25%",
        lambda p: abs(p["progress_ms"] - duration * 0.25) < duration * 0.1,
    )


def test_keyboard_shortcuts(dashboard: Page, dashboard_sim: Sim) -> None:
    sim = dashboard_sim
    dashboard.locator("#np-heading").click()  # focus on the page, not a control
    playing = sim.playback()["is_playing"]
    dashboard.keyboard.press("Space")
    sim_has(sim, "space toggled playback", lambda p: p["is_playing"] is not playing)
    dashboard.keyboard.press("Space")
    sim_has(sim, "space toggled back", lambda p: p["is_playing"] is playing)

    before = sim.playback()["track_uri"]
    dashboard.keyboard.press("Shift+ArrowRight")
    sim_has(sim, "shift+→ is next", lambda p: p["track_uri"] != before)

    progress = sim.playback()["progress_ms"]
    dashboard.keyboard.press("ArrowRight")
    sim_has(sim, "→ seeks ahead", lambda p: p["progress_ms"] >= progress + 4000)

    volume = sim.playback()["volume_percent"]
    dashboard.keyboard.press("ArrowUp")
    sim_has(sim, "↑ raises the volume", lambda p: p["volume_percent"] == min(100, volume + 5))

    dashboard.keyboard.press("?")
    expect(dashboard.locator("#help-dialog")).to_be_visible()
    dashboard.keyboard.press("Escape")
    expect(dashboard.locator("#help-dialog")).to_be_hidden()

    dashboard.keyboard.press("/")
    expect(dashboard.locator("#search-input")).to_be_focused()
    expect(dashboard.locator("#panel-search")).to_be_visible()


def test_changes_in_the_spotify_app_show_up_live(dashboard: Page, dashboard_sim: Sim) -> None:
    sim = dashboard_sim
    expect(dashboard.locator("#link-status")).to_have_text("live")
    if not sim.playback()["is_playing"]:
        sim.app_action("play")
    expect(dashboard.locator("#btn-play")).to_have_attribute("aria-label", "Pause")

    sim.app_action("pause")
    expect(dashboard.locator("#btn-play")).to_have_attribute("aria-label", "Play")
    sim.app_action("play")
    expect(dashboard.locator("#btn-play")).to_have_attribute("aria-label", "Pause")

    title = dashboard.locator("#np-title").inner_text()
    sim.app_action("next")
    expect(dashboard.locator("#np-title")).not_to_have_text(title)


def test_a_long_title_scrolls_and_a_track_without_art_shows_a_placeholder(
    dashboard: Page, dashboard_sim: Sim
) -> None:
    title = "An Extremely Long Title For A Local File That Never Fits On One Line Anywhere"
    uri = LocalFile("Home Band", "", title, 200).uri
    dashboard_sim.app_action("play", uris=[uri])
    expect(dashboard.locator("#np-title")).to_have_text(title)
    expect(dashboard.locator("#np-title-wrap")).to_have_class(re.compile(r"\bscrolling\b"))
    expect(dashboard.locator("#np-art")).to_be_hidden()
    expect(dashboard.locator("#np-art-empty")).to_be_visible()
    expect(dashboard.locator("#np-announcer")).to_have_text(f"Now playing: {title} by Home Band")
    # Back to the catalog: the title fits again and the art is back.
    dashboard_sim.app_action("play", context_uri="spotify:playlist:en5Gm1iJFuXGSiFf3HOcpD")
    expect(dashboard.locator("#np-title-wrap")).not_to_have_class(re.compile(r"\bscrolling\b"))
    expect(dashboard.locator("#np-art")).to_be_visible()


def test_sign_out_ends_the_session(browser: Browser, demo_server: DemoServer) -> None:
    context = new_context(browser, demo_server)
    page = context.new_page()
    try:
        page.goto("/")
        page.locator("#signin-key").fill(demo_server.admin_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#app")).to_be_visible()
        cookie = next(c for c in context.cookies() if c["name"] == "tunedeck_session")

        page.get_by_role("button", name="Sign out").click()
        expect(page.locator("#signin")).to_be_visible()
        expect(page.locator("#signin-error")).to_have_text("Signed out.")
        assert not [c for c in context.cookies() if c["name"] == "tunedeck_session"]
        # The old cookie is worthless now, wherever it went.
        stale = httpx.get(
            f"{demo_server.origin}/v1/me",
            headers={"Cookie": f"tunedeck_session={cookie['value']}"},
            timeout=10,
        )
        assert stale.status_code == 401
        page.reload()
        expect(page.locator("#signin")).to_be_visible()
    finally:
        context.close()
