"""Screenshots of the dashboard's History and Stats tabs for docs/dashboard/.

    .venv/bin/python -m tests.browser.history_screenshots [--out docs/dashboard]

Starts ``tunedeck demo`` on a free port with its own data dir, starts a stream, lets a
few tracks play (skipped in the Spotify app, skipped through TuneDeck, played to their
end: about a minute and a half), then saves History and Stats wide (1440 px) and in an
OBS dock (420 px), whole pages.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.dashboard_support import SIM_PREFIX, sign_in
from tests.support.browser import find_chromium
from tests.support.demo import start_demo

SHOTS: list[tuple[str, int, int, str]] = [
    ("wide", 1440, 900, "dark"),
    ("wide", 1440, 900, "light"),
    ("dock", 420, 760, "dark"),
]
#: How the stream's songs end, in order, and how long each plays first (seconds).
SCRIPT: list[tuple[str, float]] = [
    ("app", 12),
    ("tunedeck", 14),
    ("end", 12),
    ("app", 4),
    ("end", 13),
    ("tunedeck", 11),
]


class Driver:
    """The demo's simulator and TuneDeck's API, as the streamer uses them."""

    def __init__(self, origin: str, key: str) -> None:
        self.origin = origin
        self.headers = {"Authorization": f"Bearer {key}"}
        self.sim = f"{origin}{SIM_PREFIX}/_sim"

    def playback(self) -> dict[str, object]:
        answer = httpx.get(f"{self.sim}/users/demo/playback", timeout=10)
        answer.raise_for_status()
        return dict(answer.json())

    def start_stream(self, title: str) -> None:
        answer = httpx.post(
            f"{self.origin}/v1/streams", headers=self.headers, json={"title": title}, timeout=10
        )
        answer.raise_for_status()

    def end_song(self, how: str) -> None:
        if how == "app":
            httpx.post(
                f"{self.sim}/users/demo/app-actions", json={"action": "next"}, timeout=10
            ).raise_for_status()
        elif how == "tunedeck":
            httpx.post(
                f"{self.origin}/v1/spotify/playback",
                headers=self.headers,
                json={"action": "next"},
                timeout=10,
            ).raise_for_status()
        else:
            now = self.playback()
            left = (int(str(now["duration_ms"])) - int(str(now["progress_ms"]))) / 1000
            httpx.post(
                f"{self.sim}/clock/advance", json={"seconds": left - 1.5}, timeout=10
            ).raise_for_status()


def record_a_stream(driver: Driver, page: Page) -> None:
    """A stream of a few songs, recorded while the dashboard watches (it is what makes
    the demo poll)."""
    expect(page.locator("#link-status")).to_have_text("live", timeout=20_000)
    driver.start_stream("Friday night chill")
    for how, seconds in SCRIPT:
        time.sleep(seconds)
        driver.end_song(how)
    time.sleep(5)  # the last change recorded


def shoot(browser: Browser, origin: str, key: str, out: Path) -> None:
    for size, width, height, theme in SHOTS:
        context = browser.new_context(base_url=origin, viewport={"width": width, "height": height})
        page = context.new_page()
        sign_in(page, key)
        if theme == "light":
            page.locator("#theme-toggle").click()
        expect(page.locator("#link-status")).to_have_text("live", timeout=20_000)
        page.locator("#tab-history").click()
        expect(page.locator("#history-list li").first).to_be_visible()
        page.get_by_role("button", name="YouTube chapters").click()
        expect(page.locator("#chapters")).to_be_visible()
        page.mouse.move(0, height - 1)
        page.wait_for_timeout(400)
        for name in ("history", "stats"):
            if name == "stats":
                page.locator("#tab-stats").click()
                expect(page.locator("#stats-body")).to_be_visible()
                page.mouse.move(0, height - 1)
                page.wait_for_timeout(600)
            page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar where it belongs
            page.wait_for_timeout(200)
            path = out / f"{name}-{size}-{theme}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"wrote {path}")
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium: see tests/support/browser.py")
    with tempfile.TemporaryDirectory() as data_dir:
        demo = start_demo(Path(data_dir))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
                )
                watcher = browser.new_context(base_url=demo.origin)
                watching = watcher.new_page()
                sign_in(watching, demo.admin_key)
                record_a_stream(Driver(demo.origin, demo.admin_key), watching)
                shoot(browser, demo.origin, demo.admin_key, args.out)
                watcher.close()
                browser.close()
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
