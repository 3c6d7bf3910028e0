"""Screenshots of the dashboard for docs/dashboard/, and its first-load figures.

    .venv/bin/python -m tests.browser.dashboard_screenshots [--out docs/dashboard]

Starts ``tunedeck demo`` on a free port with its own data dir, signs in with the printed
key and saves desktop (1440x900), phone (390x844) and OBS dock (420x760) shots in the dark
and light themes.
Then measures a cold first load (no cache): bytes transferred by TuneDeck's own files
(album art apart), and the time until the player shows the playing track.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.dashboard_support import sign_in
from tests.support.browser import find_chromium
from tests.support.demo import start_demo

SHOTS: list[tuple[str, int, int]] = [
    ("desktop", 1440, 900),
    ("phone", 390, 844),
    ("dock", 420, 760),
]


def settle(page: Page) -> None:
    expect(page.locator("#np-title")).not_to_have_text("Nothing playing")
    expect(page.locator("#link-status")).to_have_text("live")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(600)


def measure(page: Page, origin: str) -> dict[str, Any]:
    """A cold load of the signed-in dashboard: TuneDeck's bytes and time to the player."""
    transferred: dict[str, int] = {}

    def on_response(response: Any) -> None:
        url = response.url
        if not url.startswith(origin) or "/images/" in url:
            return
        sizes = response.request.sizes()
        transferred[url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]

    page.on("response", on_response)
    started = time.perf_counter()
    page.goto("/")
    expect(page.locator("#np-title")).not_to_have_text("Nothing playing")
    ready_ms = (time.perf_counter() - started) * 1000
    page.wait_for_load_state("networkidle")
    timing = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"
    )
    files = {u: s for u, s in transferred.items() if "/v1/" not in u}
    return {
        "files": len(files),
        "file_bytes": sum(files.values()),
        "api_bytes": sum(s for u, s in transferred.items() if "/v1/" in u),
        "dom_content_loaded_ms": round(timing["dcl"]),
        "load_ms": round(timing["load"]),
        "player_ready_ms": round(ready_ms),
    }


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
        origin, key = demo.origin, demo.admin_key
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
                )
                for name, width, height in SHOTS:
                    for theme in ("dark", "light"):
                        context = browser.new_context(
                            base_url=origin, viewport={"width": width, "height": height}
                        )
                        page = context.new_page()
                        sign_in(page, key)
                        if theme == "light":
                            page.locator("#theme-toggle").click()
                            page.mouse.move(0, height - 1)  # no hover left on the toggle
                        settle(page)
                        path = args.out / f"{name}-{theme}.png"
                        page.screenshot(path=str(path))
                        print(f"wrote {path}")
                        context.close()
                # Figures: sign in, then a cold load (a new context: empty cache) with the
                # session cookie, as when a streamer opens the dashboard again.
                viewport: ViewportSize = {"width": 1440, "height": 900}
                context = browser.new_context(base_url=origin, viewport=viewport)
                sign_in(context.new_page(), key)
                cookies = context.cookies()
                context.close()
                for attempt in range(3):
                    cold_context = browser.new_context(base_url=origin, viewport=viewport)
                    cold_context.add_cookies(cookies)  # type: ignore[arg-type]
                    figures = measure(cold_context.new_page(), origin)
                    print(f"cold load {attempt + 1}:", figures)
                    cold_context.close()
                browser.close()
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
