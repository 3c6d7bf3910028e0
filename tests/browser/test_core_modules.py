"""The shared core's rules, run in Chromium on the modules as served: the playhead (clock
sync, hold rather than jump back, REST answers trusted only for real changes, clamped),
the live feed (one backoff with jitter, resume from the highest id seen, 4401 final, 4403
slow), the formatter. A fake clock and a fake WebSocket stand in for time and the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser

CORE_JS = """() => document.querySelector('script[type=module]').src
    .replace(/overlay\\/overlay\\.js$/, 'core/')"""


@pytest.fixture(scope="module")
def page(browser: Browser, demo_server: DemoServer) -> Iterator[Page]:
    """The overlay page without a token (no feed of its own), to import the core from."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{demo_server.origin}/overlay")
    try:
        yield page
    finally:
        context.close()


def run(page: Page, body: str) -> Any:
    """Evaluate ``body`` (an async function body) with ``core`` the core's base URL."""
    core = page.evaluate(CORE_JS)
    return page.evaluate(f"async (core) => {{ {body} }}", core)


def test_the_playhead_syncs_holds_jumps_and_clamps(page: Page) -> None:
    result = run(
        page,
        """
        const { Playhead, HOLD_MAX_MS } = await import(core + 'playhead.js');
        let t = 1_000_000;
        const head = new Playhead({ now: () => t });
        const np = (uri, progress, playing = true) => ({ is_playing: playing, progress_ms: progress,
            track: { uri, duration_ms: 200_000 } });
        const out = {};
        head.syncClock(t + 5_000);             // the server's clock is 5 s ahead
        head.update(np('a', 10_000), t + 5_000 - 400);  // read 400 ms ago
        out.synced = head.position();
        t += 1_000;
        out.moved = head.position();
        head.update(np('a', 10_600), t + 5_000);      // a poll 800 ms behind: held
        out.held = [head.position(), (t += 400, head.position()), (t += 800, head.position())];
        head.update(np('a', 5_000), t + 5_000);       // a seek back: at once
        out.seek = head.position();
        head.update(np('a', 5_500), undefined);       // REST, 500 ms off: not trusted
        out.rest_small = head.position();
        head.update(np('a', 60_000), undefined);      // REST, far off: taken
        out.rest_big = head.position();
        head.update(np('a', 60_000, false), t + 5_000);  // paused
        t += 10_000;
        out.paused = head.position();
        head.update(np('b', 199_900), t + 5_000);     // the next item, near its end
        t += 5_000;
        out.clamped = head.position();
        out.hold_max = HOLD_MAX_MS;
        return out;
        """,
    )
    assert result["synced"] == 10_400
    assert result["moved"] == 11_400
    assert result["held"] == [11_400, 11_400, 11_800], result
    assert result["seek"] == 5_000
    assert result["rest_small"] == 5_000
    assert result["rest_big"] == 60_000
    assert result["paused"] == 60_000
    assert result["clamped"] == 200_000
    assert result["hold_max"] < 2_000  # below the poller's seek tolerance: seeks jump


def test_one_backoff_with_jitter_capped_at_30_seconds(page: Page) -> None:
    delays = run(
        page,
        """
        const { backoffDelay } = await import(core + 'feed.js');
        const range = (n) => [backoffDelay(n, () => 0), backoffDelay(n, () => 1)];
        return [0, 1, 2, 5, 6, 10, 30].map(range);
        """,
    )
    assert delays[0] == [250, 500]
    assert delays[1] == [500, 1000]
    assert delays[2] == [1000, 2000]
    assert delays[-1] == [15_000, 30_000]
    assert all(low <= high <= 30_000 for low, high in delays)


FAKE_SOCKET = """
    const sockets = [];
    class FakeSocket extends EventTarget {
        constructor(url) { super(); this.url = url; this.sent = []; sockets.push(this); }
        send(data) { this.sent.push(JSON.parse(data)); }
        close() {}
        open() { this.dispatchEvent(new Event('open')); }
        receive(message) { this.dispatchEvent(Object.assign(new Event('message'),
            { data: JSON.stringify(message) })); }
        drop(code, reason = '') { this.dispatchEvent(Object.assign(new Event('close'),
            { code, reason })); }
    }
    const realSocket = window.WebSocket;
    const realTimeout = window.setTimeout;
    const timers = [];
    window.WebSocket = FakeSocket;
    window.setTimeout = (fn, delay) => { timers.push(delay); return realTimeout(fn, 0); };
    const settle = () => new Promise((resolve) => realTimeout(resolve, 20));
    const { LiveFeed } = await import(core + 'feed.js');
"""
RESTORE = "window.WebSocket = realSocket; window.setTimeout = realTimeout;"


def test_the_feed_resumes_from_the_highest_id_and_stops_on_4401(page: Page) -> None:
    result = run(
        page,
        FAKE_SOCKET
        + """
        try {
            const states = [];
            const seen = [];
            const feed = new LiveFeed({ token: 'tdo_x', onMessage: (m) => seen.push(m.id),
                onState: (s) => states.push(s) });
            feed.start();
            sockets[0].open();
            for (const id of [3, 7, 5]) sockets[0].receive({ type: 'event', id });
            sockets[0].drop(1006);
            await settle();
            sockets[1].open();
            sockets[1].drop(4403, 'origin');
            await settle();
            sockets[2].drop(4401, 'revoked');
            await settle();
            feed.stop();
            return { urls: sockets.map((s) => s.url), auth: sockets.map((s) => s.sent[0] || null),
                     seen, since: feed.since, states, timers, count: sockets.length };
        } finally { """
        + RESTORE
        + "}",
    )
    assert result["seen"] == [3, 7, 5]
    assert result["since"] == 7
    # A token travels in the first message, never in the URL; the resume asks from 7.
    assert all(
        "tdo_x" not in url and url.endswith("/v1/spotify/live?auth=message")
        for url in result["urls"]
    )
    assert result["auth"][0] == {"type": "auth", "token": "tdo_x"}
    assert result["auth"][1] == {"type": "auth", "token": "tdo_x", "since": 7}
    # 1006: the first step of the backoff; 4403: the slow end; 4401: no reconnection.
    assert 250 <= result["timers"][0] <= 500, result["timers"]
    assert 15_000 <= result["timers"][1] <= 30_000, result["timers"]
    assert result["count"] == 3
    assert result["states"][-1] == "refused"


def test_a_cookie_feed_resumes_with_since_in_the_url(page: Page) -> None:
    urls = run(
        page,
        FAKE_SOCKET
        + """
        try {
            const feed = new LiveFeed({ onMessage: () => {} });
            feed.start();
            sockets[0].receive({ type: 'hello', id: 41 });
            sockets[0].receive({ type: 'now_playing', id: 42 });
            sockets[0].drop(1001);
            await settle();
            feed.stop();
            return sockets.map((s) => s.url);
        } finally { """
        + RESTORE
        + "}",
    )
    assert urls[0].endswith("/v1/spotify/live")
    assert urls[1].endswith("/v1/spotify/live?since=42")


def test_one_formatter(page: Page) -> None:
    assert run(
        page,
        """
        const { clock, formatDuration } = await import(core + 'format.js');
        return [clock(0), clock(61_999), clock(3_723_000), clock(null), formatDuration(45),
                formatDuration(7_500)];
        """,
    ) == ["0:00", "1:01", "1:02:03", "0:00", "45 s", "2 h 5 min"]
