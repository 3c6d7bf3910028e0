"""Browser fixtures: Chromium (see tests/support/browser.py) driven by Playwright, and a
real demo server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.browser import INSTALL_HINT, find_chromium
from tests.support.servers import free_port
from tests.support.services import in_ci

# Without the networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module: Playwright's sync API runs an event loop on this
    thread while it is open, which the asyncio tests of other modules cannot share.

    No Chromium installed: skipped with how to install one, failed under CI=true."""
    chromium = find_chromium()
    if chromium is None:
        if in_ci():
            pytest.fail(INSTALL_HINT, pytrace=False)
        pytest.skip(INSTALL_HINT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class DemoServer:
    """``tunedeck demo`` running in its own process."""

    origin: str
    admin_key: str


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo exactly as a streamer starts it, on a free port with its own data dir."""
    data_dir: Path = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TUNEDECK_")}
    env["TUNEDECK_DATA_DIR"] = str(data_dir)
    command = [sys.executable, "-c", "from tunedeck.cli import main; main()"]
    process = subprocess.Popen(
        [*command, "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        key = _read_admin_key(process)
        origin = f"http://127.0.0.1:{port}"
        httpx.get(f"{origin}/", timeout=5).raise_for_status()
        yield DemoServer(origin, key)
    finally:
        process.terminate()
        process.wait(timeout=15)


def _read_admin_key(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        found = re.search(r"Admin key: (\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("the demo printed no admin key:\n" + "".join(seen))
