"""Soak of the overlay page: minutes of fast track changes in Chromium.

A real ``tunedeck demo`` (serve, poller, simulator on one port) and the overlay page in
headless Chromium, 1920x1080. Every couple of seconds the track changes, alternately by
a command through TuneDeck's API (the poller looks again at once) and by a skip "in the
Spotify app" (seen at the next poll, every 3 s while playing). Each change is timed from
the command to the page showing it (change-to-screen latency, one clock). Every 10 s the
page's JS heap (after a garbage collection), DOM node count, event listeners and layout
count come from CDP (``Performance.getMetrics``). At the end, a few natural track ends
(seek to 3 s before the end) are timed from the expected end to the page.

Printed: latencies (p50 / p95 / max) per kind of change, and the metrics of the first
minute (the baseline) against the last minute; the heap and the node count must not grow
beyond noise. ``python -m bench overlay_soak`` runs 2 minutes (``make bench``);
``python -m bench.overlay_soak --minutes 10`` the full soak.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import CDPSession, Page, sync_playwright

from bench.demo_process import Demo, start_demo

DEFAULT_MINUTES = 2.0
CHANGE_EVERY = 2.0  # seconds between track changes
SAMPLE_EVERY = 10.0  # seconds between metric samples
NATURAL_ENDS = 3
SETTLE_MS = 700
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
METRICS = ("JSHeapUsedSize", "Nodes", "JSEventListeners", "LayoutCount", "RecalcStyleCount")


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None  # Playwright's own build, if installed


def _item(page: Page) -> str | None:
    value = page.locator("#overlay").get_attribute("data-current")
    return str(value) if value is not None else None


def _wait_change(page: Page, before: str | None, timeout: float = 30.0) -> float:
    """Seconds until the page shows an item other than ``before`` (polled every 20 ms)."""
    started = time.perf_counter()
    page.wait_for_function(
        "(before) => document.querySelector('#overlay').dataset.current !== before",
        arg=before,
        polling=20,
        timeout=timeout * 1000,
    )
    return time.perf_counter() - started


def _sample(page: Page, cdp: CDPSession) -> dict[str, float]:
    # Past any slide (the leaving slot is removed after 450 ms), then collected.
    page.wait_for_timeout(SETTLE_MS)
    cdp.send("HeapProfiler.collectGarbage")
    raw: Any = cdp.send("Performance.getMetrics")
    values = {m["name"]: float(m["value"]) for m in raw["metrics"]}
    return {name: values.get(name, 0.0) for name in METRICS}


def _change(http: httpx.Client, demo: Demo, page: Page, n: int, results: Results) -> None:
    before = _item(page)
    if n % 2 == 0:
        answer = http.post(
            f"{demo.origin}/v1/spotify/playback", headers=demo.headers, json={"action": "next"}
        )
        kind = "command through TuneDeck"
    else:
        answer = http.post(demo.sim("/app-actions"), json={"action": "next"})
        kind = "skip in the Spotify app"
    answer.raise_for_status()
    results.add(kind, _wait_change(page, before))


def _natural_end(http: httpx.Client, demo: Demo, page: Page, results: Results) -> None:
    playback = http.get(demo.sim("/playback")).json()
    before = _item(page)
    lead = 3.0
    http.post(
        demo.sim("/app-actions"),
        json={"action": "seek", "position_ms": playback["duration_ms"] - int(lead * 1000)},
    ).raise_for_status()
    ended_after = _wait_change(page, before) - lead
    results.add("natural end of a track (after the end)", ended_after)


def _soak(demo: Demo, minutes: float) -> Results:
    results = Results()
    with httpx.Client(timeout=10) as http:
        token = http.post(
            f"{demo.origin}/v1/overlay-tokens", headers=demo.headers, json={"label": "soak"}
        ).json()
        http.post(demo.sim("/app-actions"), json={"action": "play"}).raise_for_status()
        # Skipping for minutes runs past the end of any playlist: loop it.
        http.post(
            demo.sim("/app-actions"), json={"action": "repeat", "state": "context"}
        ).raise_for_status()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(token["overlay_url"] + "&accent=art")
            page.wait_for_function(
                "() => document.querySelector('#overlay').dataset.current", timeout=30_000
            )
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            started = time.monotonic()
            end = started + minutes * 60
            next_sample = started
            n = 0
            while time.monotonic() < end:
                if time.monotonic() >= next_sample:
                    results.samples.append((time.monotonic() - started, _sample(page, cdp)))
                    next_sample += SAMPLE_EVERY
                step = time.monotonic()
                _change(http, demo, page, n, results)
                n += 1
                rest = CHANGE_EVERY - (time.monotonic() - step)
                if rest > 0:
                    page.wait_for_timeout(rest * 1000)
            results.samples.append((time.monotonic() - started, _sample(page, cdp)))
            for _ in range(NATURAL_ENDS):
                _natural_end(http, demo, page, results)
            browser.close()
    return results


def _report(results: Results, minutes: float) -> None:
    print(f"{sum(len(v) for v in results.latencies.values())} changes in {minutes:g} min")
    print(f"{'change-to-screen latency (s)':<42}p50     p95     max   count")
    for kind, values in results.latencies.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"  {kind:<38}{statistics.median(ordered):6.2f}  {p95:6.2f}  {ordered[-1]:6.2f}"
            f"  {len(ordered):6d}"
        )
    # The baseline is the first minute of changes (the sample before any is left out).
    first = [m for t, m in results.samples if 0 < t <= 60]
    last_start = results.samples[-1][0] - 60
    last = [m for t, m in results.samples if t >= last_start]
    print("page metrics, mean of samples:        first minute    last minute    ratio")
    for name in METRICS:
        if name in ("LayoutCount", "RecalcStyleCount"):
            continue
        a = statistics.mean(m[name] for m in first)
        b = statistics.mean(m[name] for m in last)
        scale, label = (1 / 1_048_576, f"{name} MiB") if name == "JSHeapUsedSize" else (1.0, name)
        print(f"  {label:<32}{a * scale:12.2f}  {b * scale:13.2f}  {b / a:7.3f}")
    print("per minute (last sample):  heap KiB   nodes  listeners")
    minute = 0
    for t, m in results.samples:
        if t >= minute * 60:
            heap = m["JSHeapUsedSize"] / 1024
            print(
                f"  {t / 60:5.1f} min {heap:16.0f} {m['Nodes']:7.0f} {m['JSEventListeners']:10.0f}"
            )
            minute += 1
    t0, m0 = results.samples[0]
    t1, m1 = results.samples[-1]
    changes = sum(len(v) for v in results.latencies.values()) - NATURAL_ENDS
    for name in ("LayoutCount", "RecalcStyleCount"):
        per_change = (m1[name] - m0[name]) / max(1, changes)
        per_second = (m1[name] - m0[name]) / max(1e-9, t1 - t0)
        print(f"  {name:<32}{per_change:8.1f} per change  {per_second:6.2f} per second")


def main(minutes: float | None = None) -> None:
    minutes = minutes or float(os.environ.get("TUNEDECK_SOAK_MINUTES", DEFAULT_MINUTES))
    with tempfile.TemporaryDirectory(prefix="overlay-soak-") as tmp:
        demo = start_demo(Path(tmp))
        try:
            results = _soak(demo, minutes)
        finally:
            demo.stop()
    _report(results, minutes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES)
    main(parser.parse_args().minutes)
