"""The Now Playing overlay in Chromium against a real ``tunedeck demo`` (serve, poller and
the simulator on one port): it follows what plays live, hides and shows as asked, and
stops on a revoked token. Liveness only: timeouts are generous, no test times anything
(the latencies are measured by bench/overlay_soak.py)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.browser.conftest import (
    DemoServer,
    SimControl,
    mint_overlay_token,
    now_playing,
    revoke_overlay_token,
)

pytestmark = pytest.mark.browser

LIVE = 20_000  # ms: a change reaches the page within one poll (3 s); this is a ceiling
CURRENT = "#overlay .slot:not(.leaving)"
TITLE = f"{CURRENT} .text:not(.copy) .title"
PROGRESS_JS = """() => {
    const fill = document.querySelector('#overlay .fill');
    const m = new DOMMatrix(getComputedStyle(fill).transform);
    return 1 + m.m41 / fill.offsetWidth;
}"""


@dataclass
class Overlay:
    page: Page
    console: list[str] = field(default_factory=list)

    @property
    def root(self):  # type: ignore[no-untyped-def]
        return self.page.locator("#overlay")

    def item(self) -> str | None:
        value = self.page.evaluate("() => TuneDeck.overlay.state().item")
        return str(value) if value is not None else None

    def wait_for_item(self, uri: str) -> None:
        expect(self.root).to_have_attribute("data-item", uri, timeout=LIVE)

    def progress(self) -> float:
        return float(self.page.evaluate(PROGRESS_JS))

    def title(self) -> str:
        return self.page.locator(TITLE).inner_text()


@pytest.fixture(scope="module")
def token_url(demo_server: DemoServer) -> str:
    return mint_overlay_token(demo_server, "test overlay").url


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        yield context
    finally:
        context.close()


def open_overlay(context: BrowserContext, url: str, options: str = "") -> Overlay:
    page = context.new_page()
    overlay = Overlay(page)

    def keep(message: ConsoleMessage) -> None:
        overlay.console.append(message.text)

    page.on("console", keep)
    page.goto(url + (f"&{options}" if options else ""))
    expect(overlay.root).to_have_attribute("data-feed", "open", timeout=LIVE)
    return overlay


def playing_uri(server: DemoServer) -> str:
    state = now_playing(server)
    assert state is not None
    assert state["track"] is not None, state
    return str(state["track"]["uri"])


def test_shows_the_current_track_then_a_skip_in_the_spotify_app(
    context: BrowserContext, demo_server: DemoServer, sim_control: SimControl, token_url: str
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(context, token_url)
    state = now_playing(demo_server)
    assert state is not None
    assert state["track"] is not None
    overlay.wait_for_item(state["track"]["uri"])
    expect(overlay.root).to_have_attribute("data-visible", "true")
    assert overlay.title() == state["track"]["name"]
    artists = overlay.page.locator(f"{CURRENT} .artists").inner_text()
    assert artists == ", ".join(state["track"]["artists"])

    sim_control.app_action("next")
    skipped_to = str(sim_control.playback()["track_uri"])
    assert skipped_to != state["track"]["uri"]
    overlay.wait_for_item(skipped_to)
    # After the slide the old slot has left the DOM: one slot on screen.
    expect(overlay.page.locator("#overlay .slot")).to_have_count(1, timeout=LIVE)


def test_a_natural_track_end_shows_the_next_track(
    context: BrowserContext, demo_server: DemoServer, sim_control: SimControl, token_url: str
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(context, token_url)
    current = sim_control.playback()
    overlay.wait_for_item(current["track_uri"])
    sim_control.app_action("seek", position_ms=max(0, current["duration_ms"] - 1500))
    expect(overlay.root).not_to_have_attribute("data-item", current["track_uri"], timeout=LIVE)
    overlay.wait_for_item(str(sim_control.playback()["track_uri"]))


def test_progress_moves_between_polls_and_never_jumps_back(
    context: BrowserContext, demo_server: DemoServer, sim_control: SimControl, token_url: str
) -> None:
    sim_control.app_action("play", position_ms=10_000)
    overlay = open_overlay(context, token_url)
    overlay.wait_for_item(playing_uri(demo_server))
    samples = []
    for _ in range(12):  # about 6 s: two polls of a playing account at least
        samples.append(overlay.progress())
        overlay.page.wait_for_timeout(500)
    assert all(b >= a for a, b in itertools.pairwise(samples)), samples
    assert samples[-1] > samples[0], samples
    assert all(0 <= s <= 1 for s in samples), samples


def test_hide_when_paused_fades_out_and_play_brings_it_back(
    context: BrowserContext, demo_server: DemoServer, sim_control: SimControl, token_url: str
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(context, token_url, "hidepaused=1")
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)

    sim_control.app_action("pause")
    expect(overlay.root).to_have_attribute("data-visible", "false", timeout=LIVE)
    expect(overlay.root).to_have_css("opacity", "0", timeout=LIVE)
    # Still on the page, faded: the last track stays for when play resumes.
    assert overlay.item() == sim_control.playback()["track_uri"]

    sim_control.app_action("play")
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)
    expect(overlay.root).to_have_css("opacity", "1", timeout=LIVE)


def test_a_long_title_scrolls(
    context: BrowserContext, demo_server: DemoServer, sim_control: SimControl, token_url: str
) -> None:
    title = "An Extraordinarily Long Title That Cannot Possibly Fit In The Card (Extended Mix)"
    sim_control.play_local_file("The Long Names", title)
    overlay = open_overlay(context, token_url)
    expect(overlay.page.locator(TITLE)).to_have_text(title, timeout=LIVE)
    line = overlay.page.locator(f"{CURRENT} .line-main")
    expect(line).to_have_class(re.compile(r"\bmarquee\b"), timeout=LIVE)
    # A local file has no cover: the placeholder shows instead.
    expect(overlay.page.locator(CURRENT)).to_have_class(re.compile(r"\bkind-local no-cover\b"))
    scroller = line.locator(".scroller")
    offsets = set()
    for _ in range(10):
        offsets.add(scroller.evaluate("(el) => new DOMMatrix(getComputedStyle(el).transform).m41"))
        overlay.page.wait_for_timeout(500)
    assert len(offsets) > 2, offsets


def test_a_revoked_token_hides_the_overlay_and_says_why(
    context: BrowserContext, demo_server: DemoServer, sim_control: SimControl
) -> None:
    sim_control.app_action("play")
    token = mint_overlay_token(demo_server, "to revoke")
    overlay = open_overlay(context, token.url)
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)

    revoke_overlay_token(demo_server, token.id)
    expect(overlay.root).to_have_attribute("data-feed", "revoked", timeout=LIVE)
    expect(overlay.root).to_have_attribute("data-visible", "false")
    assert any("refused this overlay's token" in line for line in overlay.console), overlay.console
