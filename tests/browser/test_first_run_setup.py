"""First run, as a new streamer does it: ``tunedeck serve`` on an empty data directory,
the setup link it prints opened in Chromium, and the setup page's five steps against a
Spotify simulator (the streamer's app created on it as on Spotify's developer
dashboard; a wrong secret pasted first, to see the page explain it), to an overlay
showing the track that plays.

Each step's picture goes to the test's temporary directory; with
``TUNEDECK_SETUP_SCREENSHOTS=docs/setup`` they are (re)written there, as the README
shows them."""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.conftest import LIVE, TITLE
from tests.support.first_run import (
    STREAMER_APP,
    STREAMER_SECRET,
    Served,
    create_app_on_spotify,
    environment,
    simulator,
    spotify_settings,
    start_serve,
)
from tunedeck.simulator.defaults import DEMO_USER

pytestmark = pytest.mark.browser
TUNEDECK = [sys.executable, "-c", "from tunedeck.cli import main; main()"]
STEP = 15_000
TRY = 4_000


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("TUNEDECK_SETUP_SCREENSHOTS")
    if wanted:
        path = Path(wanted)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("setup-screenshots")


@pytest.fixture(scope="module")
def spotify() -> Iterator[str]:
    with simulator() as base:
        yield base


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, spotify: str) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("streamer")
    env = environment(home / "data", **spotify_settings(spotify))
    server = start_serve(TUNEDECK, env, cwd=home)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        yield context
    finally:
        context.close()


def shoot(page: Page, out_dir: Path, name: str) -> None:
    page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)


def current_track(spotify: str) -> str:
    """The name of the track the streamer's Spotify plays now (asked as a client would)."""
    token = httpx.post(f"{spotify}/_sim/tokens", json={"user": DEMO_USER}, timeout=10)
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    playing = httpx.get(f"{spotify}/v1/me/player/currently-playing", headers=headers, timeout=10)
    playing.raise_for_status()
    return str(playing.json()["item"]["name"])


def shows_the_playing_track(title: Locator, spotify: str) -> None:
    """``title`` comes to show the track playing now (which may change meanwhile: the
    expectation is read again on each try)."""
    for _ in range(LIVE // TRY):
        try:
            expect(title).to_have_text(current_track(spotify), timeout=TRY)
            return
        except AssertionError:
            continue
    expect(title).to_have_text(current_track(spotify), timeout=TRY)


def test_serve_prints_the_key_file_and_a_setup_link(served: Served, tmp_path: Path) -> None:
    backups = [line for line in served.lines if "Back up this file: " in line]
    assert len(backups) == 1, served.lines
    key_file = Path(backups[0].split("Back up this file: ", 1)[1].split(" (", 1)[0])
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert served.setup_link is not None
    assert served.setup_link.startswith(f"{served.origin}/setup#code=")
    assert any(f"Dashboard: {served.origin}/" in line for line in served.lines)


def test_from_the_setup_link_to_an_overlay_showing_the_track(
    served: Served, spotify: str, context: BrowserContext, out_dir: Path
) -> None:
    link = served.setup_link
    assert link is not None
    page = context.new_page()
    page.goto(link)
    expect(page.locator("#step-1")).to_be_visible(timeout=STEP)
    assert "#code=" not in page.url  # dropped from the address bar (and its history)
    shoot(page, out_dir, "1-channel")

    # 1: the channel's account, an admin key shown once, this browser signed in.
    page.fill("#channel-name", "mychannel")
    page.click("#account-form button[type=submit]")
    expect(page.locator("#admin-key-box")).to_be_visible(timeout=STEP)
    assert page.input_value("#admin-key").startswith("tdk_")
    expect(page.locator("#step-1-next")).to_be_disabled()
    page.check("#key-saved")
    shoot(page, out_dir, "1-admin-key")
    page.click("#step-1-next")

    # 2: the redirect URI to register; the app created with it on "Spotify".
    expect(page.locator("#step-2")).to_be_visible(timeout=STEP)
    redirect_uri = page.input_value("#redirect-uri")
    assert redirect_uri == f"{served.origin}/v1/connections/spotify/callback"
    expect(page.locator("#public-url-problem")).to_be_hidden()
    shoot(page, out_dir, "2-spotify-app")
    create_app_on_spotify(spotify, [redirect_uri], users=[DEMO_USER])
    page.fill("#client-id", STREAMER_APP)
    page.fill("#client-secret", "not-the-secret")  # a slip, to see it explained
    page.click("#app-form button[type=submit]")

    # 3: Spotify refuses the secret; the page says so and what to do.
    expect(page.locator("#step-3")).to_be_visible(timeout=STEP)
    page.click("#connect-button")
    problem = page.locator("#connect-problem")
    expect(problem).to_be_visible(timeout=STEP)
    expect(problem).to_contain_text("refused your app's client secret")
    assert "connect_error" not in page.url
    shoot(page, out_dir, "3-connect-refused")
    problem.get_by_role("button", name="Change the client ID and secret").click()
    expect(page.locator("#step-2")).to_be_visible(timeout=STEP)
    page.fill("#client-id", STREAMER_APP)
    page.fill("#client-secret", STREAMER_SECRET)
    page.click("#app-form button[type=submit]")
    expect(page.locator("#step-3")).to_be_visible(timeout=STEP)
    page.click("#connect-button")
    expect(page.locator("#connect-done")).to_contain_text("Connected to Spotify as", timeout=STEP)
    expect(page.locator("#connect-problem")).to_be_hidden()
    shoot(page, out_dir, "3-connected")
    page.click("#step-3-next")

    # 4: the overlay link, its preview showing what plays, how to add it to OBS.
    expect(page.locator("#step-4")).to_be_visible(timeout=STEP)
    page.click("#overlay-create")
    expect(page.locator("#overlay-box")).to_be_visible(timeout=STEP)
    overlay_url = page.input_value("#overlay-url")
    assert overlay_url.startswith(f"{served.origin}/overlay#token=tdo_")
    preview = page.frame_locator("#overlay-preview")
    shows_the_playing_track(preview.locator(TITLE), spotify)
    expect(preview.locator("#overlay")).to_have_css("opacity", "1", timeout=LIVE)  # faded in
    expect(page.locator("#step-4")).to_contain_text("Shutdown source when not visible")
    shoot(page, out_dir, "4-overlay")
    # The chat bot's commands, with a chat token made for them, for the bot picked.
    page.click("#chat-create")
    sr = page.locator("#chat-lines input").first
    expect(sr).to_have_value(
        re.compile(r"^\$\(urlfetch http://127\.0\.0\.1:\d+/v1/chat/sr\?token=")
    )
    page.select_option("#chat-bot", "streamelements")
    expect(page.locator("#chat-lines input").first).to_have_value(re.compile(r"customapi"))
    shoot(page, out_dir, "4-chat-commands")
    page.click("#step-4-next")

    # 5: done, on to the dashboard, signed in.
    expect(page.locator("#step-5")).to_be_visible(timeout=STEP)
    expect(page.locator("#done-summary")).to_contain_text("mychannel")
    shoot(page, out_dir, "5-done")
    page.click("#step-5 a.btn")
    expect(page.locator("#app")).to_be_visible(timeout=STEP)
    shows_the_playing_track(page.locator("#np-title"), spotify)
    shoot(page, out_dir, "6-dashboard")
    page.get_by_role("tab", name="Admin").click()
    expect(page.locator("#health-summary")).to_have_text("Everything works.", timeout=STEP)
    expect(page.locator("#health-list li")).to_have_count(8)
    shoot(page, out_dir, "6-dashboard-health")

    # The overlay as OBS shows it.
    obs = context.new_page()
    obs.set_viewport_size({"width": 1280, "height": 720})
    obs.goto(overlay_url)
    shows_the_playing_track(obs.locator(TITLE), spotify)
    expect(obs.locator("#overlay")).to_have_css("opacity", "1", timeout=LIVE)
    shoot(obs, out_dir, "7-overlay-in-obs")

    # The link is spent: the page leads to the dashboard, the code creates nothing.
    again = context.new_page()
    again.goto(link)
    again.wait_for_url(f"{served.origin}/", timeout=STEP)
    code = link.split("#code=", 1)[1]
    refused = httpx.post(
        f"{served.origin}/v1/setup/account", json={"code": code, "name": "other"}, timeout=10
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "setup_link_invalid"
    # The code was printed once, and written nowhere else (its log included).
    assert sum(code in line for line in served.lines) == 1
