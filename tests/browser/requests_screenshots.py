"""Screenshots of song requests for docs/requests/: the Requests view wide and in a 420 px
OBS dock, the public queue page, and the overlay naming a requester.

    .venv/bin/python -m tests.browser.requests_screenshots [--out docs/requests]

Starts ``tunedeck demo`` on a free port with its own data dir, requests four songs for
viewers with names in several scripts (one waiting for approval, one playing), and shoots.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.dashboard_support import sign_in
from tests.support.browser import find_chromium
from tests.support.demo import start_demo

VIEWERS = [
    ("Zoë", "subscriber"),
    ("مريم", "regular"),
    ("SuperLongDisplayNameOfAViewerWhoLovesMusic", "regular"),
    ("Kenji 健二", "vip"),
]


def _stage(origin: str, key: str) -> str:
    """Requests in the queue (the first one playing, the last awaiting approval); the
    public page's link."""
    headers = {"Authorization": f"Bearer {key}"}
    sim = f"{origin}/spotify-sim/_sim/users/demo"
    playback = httpx.get(f"{sim}/playback", timeout=10).json()
    busy = {playback["track_uri"], *playback.get("upcoming", [])}
    playlists = httpx.get(f"{sim}/playlists", timeout=10).json()
    uris = [u for p in playlists for u in p["track_uris"] if u not in busy][:4]
    settings = httpx.get(f"{origin}/v1/requests/settings", headers=headers).json()["settings"]
    settings["roles"]["vip"]["approval_required"] = True
    httpx.put(f"{origin}/v1/requests/settings", headers=headers, json=settings).raise_for_status()
    for index, (uri, (name, role)) in enumerate(zip(uris, VIEWERS, strict=True)):
        viewer: dict[str, Any] = {"platform": "twitch", "id": f"v{index}", "display_name": name}
        viewer["role"] = role
        body = {"query": uri, "viewer": viewer}
        httpx.post(f"{origin}/v1/requests", headers=headers, json=body).raise_for_status()
    # The first request plays: bring the playing song near its end.
    left = (playback["duration_ms"] - playback["progress_ms"]) / 1000
    httpx.post(f"{origin}/spotify-sim/_sim/clock/advance", json={"seconds": left - 8})
    link = httpx.post(f"{origin}/v1/queue-page", headers=headers).json()
    return str(link["url"])


def _dashboard(browser: Browser, origin: str, key: str, out: Path) -> None:
    for name, width, height in (("requests-wide", 1440, 1000), ("requests-dock", 420, 1500)):
        context = browser.new_context(base_url=origin, viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("pageerror", lambda error: print("page error:", error))
        sign_in(page, key)
        page.locator("#tab-requests").click()
        expect(page.locator(".req-row.state-playing")).to_have_count(1, timeout=30_000)
        expect(page.locator("#np-requester")).to_be_visible()
        page.wait_for_timeout(800)
        page.screenshot(path=str(out / f"{name}.png"), full_page=name.endswith("dock"))
        if name == "requests-wide":
            page.locator("#req-rules-section summary").click()
            page.locator("#req-rules-section").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "requests-rules.png"))
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/requests")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium()
    assert chromium is not None, "no Chromium: run python -m tests.prepare"
    with tempfile.TemporaryDirectory() as data:
        demo = start_demo(Path(data))
        try:
            url = _stage(demo.origin, demo.admin_key)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
                )
                _dashboard(browser, demo.origin, demo.admin_key, out)
                page = browser.new_page(viewport={"width": 720, "height": 640})
                page.goto(url)
                expect(page.locator("#page")).to_have_attribute("data-state", "live")
                page.wait_for_timeout(800)
                page.screenshot(path=str(out / "public-page.png"))
                page.close()
                browser.close()
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
