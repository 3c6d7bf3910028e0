"""The overlay's pictures: each layout at 1920x1080 (over a dark scene) and in a 400x120
browser source (over a light one), plus an episode, a long right-to-left title and nothing
playing; each checked for clipping (the overlay inside the window, every line either
fitting or scrolling).

They go to the test's temporary directory; with ``TUNEDECK_OVERLAY_SCREENSHOTS=docs/overlay``
they are (re)written there, as the README shows them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import (
    CURRENT,
    LIVE,
    DemoServer,
    SimControl,
    mint_overlay_token,
    playback_command,
)

pytestmark = pytest.mark.browser

LAYOUTS = ("card", "compact", "bar", "minimal")
# Scenes behind the transparent page: flat colours (small PNGs), a dark game and a bright
# desktop, to judge legibility on both.
DARK_SCENE = (
    "linear-gradient(90deg, transparent 0 58%, #243b63 58% 74%, transparent 74%),"
    "linear-gradient(180deg, #1a2236 0 66%, #0d1018 66% 100%)"
)
LIGHT_SCENE = "linear-gradient(180deg, #f5f2e9 0 50%, #dbe9f6 50% 100%)"
RTL_TITLE = "أغنية طويلة جداً عن البحر والقمر والليالي الصيفية الدافئة في المدينة القديمة"
RTL_ARTIST = "فرقة النجوم"
# Lines allowed to overflow: the main line scrolls instead (class "marquee").
CLIPPED_LINES_JS = """() => Array.from(document.querySelectorAll(
    '#overlay .slot:not(.leaving) .line')).filter(line =>
    line.offsetParent !== null && !line.classList.contains('marquee') &&
    line.scrollWidth > line.clientWidth + 1).map(line => line.textContent)"""
BOX_JS = """() => { const r = document.querySelector('#overlay').getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom, innerWidth, innerHeight]; }"""


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("TUNEDECK_OVERLAY_SCREENSHOTS")
    if wanted:
        path = Path(wanted)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("overlay-screenshots")


@pytest.fixture(scope="module")
def token_url(demo_server: DemoServer) -> str:
    return mint_overlay_token(demo_server, "screenshots").url


@pytest.fixture
def contexts(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    made = {
        "1920x1080": browser.new_context(viewport={"width": 1920, "height": 1080}),
        "400x120": browser.new_context(viewport={"width": 400, "height": 120}),
    }
    try:
        yield made
    finally:
        for context in made.values():
            context.close()


def shoot(context: BrowserContext, url: str, scene: str, path: Path, state: str = "track") -> Page:
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#overlay")).to_have_attribute("data-state", state, timeout=LIVE)
    expect(page.locator("#overlay")).to_have_attribute("data-visible", "true", timeout=LIVE)
    # A scene behind the transparent page (CSSOM: allowed by the page's CSP).
    page.evaluate("(scene) => { document.documentElement.style.background = scene; }", scene)
    page.wait_for_timeout(900)  # the slide-in and the cover, settled
    left, top, right, bottom, width, height = page.evaluate(BOX_JS)
    assert left >= 0, (path.name, left)
    assert top >= 0, (path.name, top)
    assert right <= width, (path.name, right, width)
    assert bottom <= height, (path.name, bottom, height)
    assert page.evaluate(CLIPPED_LINES_JS) == [], path.name
    page.screenshot(path=str(path))
    return page


def play_known_track(sim: SimControl) -> None:
    """A track with a title of ordinary length, 70 s in."""
    sim.app_action("play")
    for _ in range(20):
        if sim.playback()["duration_ms"] > 120_000:
            break
        sim.app_action("next")
    sim.app_action("seek", position_ms=70_000)


def test_each_layout_at_1080p_and_in_a_small_source(
    contexts: dict[str, BrowserContext],
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
    out_dir: Path,
) -> None:
    play_known_track(sim_control)
    for layout in LAYOUTS:
        url = f"{token_url}&layout={layout}"
        shoot(contexts["1920x1080"], url, DARK_SCENE, out_dir / f"{layout}-1920x1080.png")
        shoot(contexts["400x120"], url, LIGHT_SCENE, out_dir / f"{layout}-400x120.png")


def test_an_episode_a_long_rtl_title_and_nothing_playing(
    contexts: dict[str, BrowserContext],
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
    out_dir: Path,
) -> None:
    big = contexts["1920x1080"]
    sim_control.play_episode()
    shoot(big, token_url, DARK_SCENE, out_dir / "episode-1920x1080.png", "episode")

    sim_control.play_local_file(RTL_ARTIST, RTL_TITLE)
    page = shoot(big, token_url, DARK_SCENE, out_dir / "long-rtl-title-1920x1080.png", "local")
    line = page.locator(f"{CURRENT} .line-main")
    expect(line).to_have_attribute("dir", "rtl")
    expect(line).to_have_class(re.compile(r"\bmarquee\b"))

    device = sim_control.playback()["device_id"]
    sim_control.app_action("disconnect")
    shoot(big, token_url, DARK_SCENE, out_dir / "nothing-playing-1920x1080.png", "idle")
    playback_command(demo_server, "play", device_id=device)
