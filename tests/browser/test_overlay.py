"""The Now Playing overlay in Chromium against a real ``tunedeck demo`` (serve, poller and
the simulator on one port): it follows what plays live, hides and shows as asked, and
stops on a revoked token. Liveness only: timeouts are generous, no test times anything
(the latencies are measured by bench/overlay_soak.py)."""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, WebSocket, expect

from tests.browser.conftest import (
    CURRENT,
    LIVE,
    TITLE,
    DemoServer,
    SimControl,
    mint_overlay_token,
    now_playing,
    open_overlay,
    playback_command,
    revoke_overlay_token,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def token_url(demo_server: DemoServer) -> str:
    return mint_overlay_token(demo_server, "test overlay").url


def playing_uri(server: DemoServer) -> str:
    state = now_playing(server)
    assert state is not None
    assert state["track"] is not None, state
    return str(state["track"]["uri"])


def test_shows_the_current_track_then_a_skip_in_the_spotify_app(
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(overlay_context, token_url)
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
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(overlay_context, token_url)
    current = sim_control.playback()
    overlay.wait_for_item(current["track_uri"])
    sim_control.app_action("seek", position_ms=max(0, current["duration_ms"] - 1500))
    expect(overlay.root).not_to_have_attribute("data-item", current["track_uri"], timeout=LIVE)
    overlay.wait_for_item(str(sim_control.playback()["track_uri"]))


def test_progress_moves_between_polls_and_never_jumps_back(
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    sim_control.app_action("play", position_ms=10_000)
    overlay = open_overlay(overlay_context, token_url)
    overlay.wait_for_item(playing_uri(demo_server))
    samples = []
    for _ in range(12):  # about 6 s: two polls of a playing account at least
        samples.append(overlay.progress())
        overlay.page.wait_for_timeout(500)
    assert all(b >= a for a, b in itertools.pairwise(samples)), samples
    assert samples[-1] > samples[0], samples
    assert all(0 <= s <= 1 for s in samples), samples


def test_hide_when_paused_fades_out_and_play_brings_it_back(
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(overlay_context, token_url, "hidepaused=1")
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)

    sim_control.app_action("pause")
    expect(overlay.root).to_have_attribute("data-visible", "false", timeout=LIVE)
    expect(overlay.root).to_have_css("opacity", "0", timeout=LIVE)
    # Still on the page, faded: the last track stays for when play resumes.
    assert overlay.item() == sim_control.playback()["track_uri"]

    # Play from the dashboard (a paused account is polled every 15 s; a command at once).
    playback_command(demo_server, "play")
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)
    expect(overlay.root).to_have_css("opacity", "1", timeout=LIVE)


def test_a_long_title_scrolls(
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    title = "An Extraordinarily Long Title That Cannot Possibly Fit In The Card (Extended Mix)"
    sim_control.play_local_file("The Long Names", title)
    overlay = open_overlay(overlay_context, token_url)
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
    overlay_context: BrowserContext, demo_server: DemoServer, sim_control: SimControl
) -> None:
    sim_control.app_action("play")
    token = mint_overlay_token(demo_server, "to revoke")
    overlay = open_overlay(overlay_context, token.url)
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)

    revoke_overlay_token(demo_server, token.id)
    expect(overlay.root).to_have_attribute("data-feed", "revoked", timeout=LIVE)
    expect(overlay.root).to_have_attribute("data-visible", "false")
    assert any("refused this overlay's token" in line for line in overlay.console), overlay.console


def test_episodes_ads_and_nothing_playing(
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(overlay_context, token_url)
    episode = sim_control.play_episode()
    show = next(s for s in sim_control.shows() if episode in s["episodes"])
    overlay.wait_for_item(episode["uri"])
    expect(overlay.root).to_have_attribute("data-state", "episode")
    expect(overlay.page.locator(f"{CURRENT} .album")).to_have_text(show["name"])
    expect(overlay.page.locator(f"{CURRENT} .art img")).to_have_count(1)

    sim_control.start_ad(60)
    overlay.wait_for_item("ad")
    expect(overlay.page.locator(TITLE)).to_have_text("Advertisement")
    expect(overlay.root).to_have_attribute("data-visible", "true")
    sim_control.end_ad()
    overlay.wait_for_item(episode["uri"])

    device = sim_control.playback()["device_id"]
    sim_control.app_action("disconnect")
    overlay.wait_for_item("idle")
    expect(overlay.page.locator(TITLE)).to_have_text("Nothing playing")
    expect(overlay.root).to_have_attribute("data-visible", "true")
    # Nothing active is polled slowly; a command through TuneDeck is seen at once.
    playback_command(demo_server, "play", device_id=device)
    expect(overlay.root).not_to_have_attribute("data-item", "idle", timeout=LIVE)


def test_no_request_leaves_tunedeck_but_for_album_art(
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    """The page is opened as http://localhost:PORT while the simulator's covers are on
    http://127.0.0.1:PORT: another origin, as Spotify's image hosts are."""
    port = urlsplit(demo_server.origin).port
    page_origin = f"http://localhost:{port}"
    art_origin = demo_server.origin
    seen: list[str] = []

    def on_request(request: Request) -> None:
        seen.append(request.url)

    def on_websocket(socket: WebSocket) -> None:
        seen.append(socket.url)

    def on_page(page: Page) -> None:
        page.on("websocket", on_websocket)

    overlay_context.on("request", on_request)
    overlay_context.on("page", on_page)
    sim_control.app_action("play")
    url = token_url.replace(demo_server.origin, page_origin)
    overlay = open_overlay(overlay_context, url, "accent=art")
    sim_control.app_action("next")
    overlay.wait_for_item(str(sim_control.playback()["track_uri"]))
    # The accent colour came from the cover, read through TuneDeck's own origin.
    expect(overlay.root).to_have_attribute("style", re.compile(r"--accent: hsl"), timeout=LIVE)

    # blob: URLs are in-memory (the cover read for its colour), not requests.
    seen = [u for u in seen if not u.startswith("blob:")]
    origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in seen}
    assert origins <= {page_origin, f"ws://localhost:{port}", art_origin}, seen
    covers = [u for u in seen if u.startswith(art_origin)]
    assert covers, seen
    assert all(urlsplit(u).path.startswith("/spotify-sim/images/") for u in covers), covers
    assert any(urlsplit(u).path == "/overlay/art" for u in seen), seen


def test_the_builder_mints_a_token_previews_and_revokes(
    overlay_context: BrowserContext, demo_server: DemoServer, sim_control: SimControl
) -> None:
    sim_control.app_action("play")
    page = overlay_context.new_page()
    page.goto(f"{demo_server.origin}/overlay/builder")
    page.fill("#key", demo_server.admin_key)
    page.click("#signin-form button")
    expect(page.locator("#app")).to_be_visible(timeout=LIVE)

    # The preview shows what plays now, with the options picked.
    page.select_option("#opt-layout", "compact")
    page.check("#opt-hidepaused")
    preview = page.frame_locator("#preview").locator("#overlay")
    expect(preview).to_have_attribute("data-item", playing_uri(demo_server), timeout=LIVE)
    expect(preview).to_have_class(re.compile(r"\blayout-compact\b"), timeout=LIVE)

    page.fill("#label", "Builder test")
    page.click("#create-form button")
    expect(page.locator("#url")).to_have_value(re.compile(r"#token=tdo_"), timeout=LIVE)
    url = page.input_value("#url")
    assert url.startswith(f"{demo_server.origin}/overlay#token=tdo_")
    assert url.endswith("&layout=compact&hidepaused=1")
    row = page.locator("#tokens tbody tr", has_text="Builder test")
    expect(row).to_contain_text("active")

    # The URL works as it is, in a browser without the builder's session.
    overlay = open_overlay(overlay_context.browser.new_context(), url)  # type: ignore[union-attr]
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Revoke").click()
    expect(row).to_contain_text("revoked", timeout=LIVE)
    expect(page.locator("#copy")).to_be_disabled()
    expect(overlay.root).to_have_attribute("data-feed", "revoked", timeout=LIVE)
    overlay.page.context.close()


def test_show_for_n_seconds_after_a_change(
    overlay_context: BrowserContext,
    demo_server: DemoServer,
    sim_control: SimControl,
    token_url: str,
) -> None:
    sim_control.app_action("play")
    overlay = open_overlay(overlay_context, token_url, "showfor=2")
    expect(overlay.root).to_have_attribute("data-visible", "true", timeout=LIVE)
    expect(overlay.root).to_have_attribute("data-visible", "false", timeout=LIVE)
    before = overlay.item()
    playback_command(demo_server, "next")
    expect(overlay.root).not_to_have_attribute("data-item", str(before), timeout=LIVE)
    expect(overlay.root).to_have_attribute("data-visible", "true")
    expect(overlay.root).to_have_attribute("data-visible", "false", timeout=LIVE)
