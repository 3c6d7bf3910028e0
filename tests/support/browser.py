"""The Chromium the browser tests drive, found the way users have one.

In order: Debian's Chromium (``/usr/bin/chromium``); Playwright's own build, once
``python -m playwright install chromium`` has fetched it; ``apt-get install chromium``
only when running as root. ``tests/prepare.py`` (run by ``make test``) installs one if
it can; ``tests/browser/conftest.py`` uses whichever is there. With none, the browser
tests skip with one line saying how to get one, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = (
    "no Chromium for the browser tests: run `.venv/bin/python -m playwright install chromium`"
    " (or, on Debian, `sudo apt-get install chromium`)"
)
#: Long enough for a slow download of Playwright's Chromium or of the Debian package.
INSTALL_TIMEOUT_SECONDS = 600


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def playwright_chromium() -> Path | None:
    """Playwright's own Chromium, if ``playwright install chromium`` has fetched it."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = Path(playwright.chromium.executable_path)
    except Exception:  # no driver, or a running event loop: not usable from here
        return None
    return path if _executable(path) else None


def find_chromium() -> Path | None:
    """The Chromium to drive: Debian's, else Playwright's; None when neither is installed."""
    if _executable(DEBIAN_CHROMIUM):
        return DEBIAN_CHROMIUM
    return playwright_chromium()


def _run(command: list[str], **env: str) -> bool:
    """Run an installer step; False (with its reason on stderr) when it fails."""
    try:
        subprocess.run(
            command,
            check=True,
            env={**os.environ, **env},
            timeout=INSTALL_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"prepare: {' '.join(command)} failed: {exc}", file=sys.stderr)
        return False
    return True


def install_chromium() -> Path | None:
    """Make sure a Chromium is installed, without needing root unless running as root."""
    found = find_chromium()
    if found is not None:
        return found
    if _run([sys.executable, "-m", "playwright", "install", "chromium"]):
        found = playwright_chromium()
        if found is not None:
            return found
    if os.geteuid() == 0 and shutil.which("apt-get") is not None:
        apt = {"DEBIAN_FRONTEND": "noninteractive"}
        if _run(["apt-get", "update", "-qq"], **apt) and _run(
            ["apt-get", "install", "-y", "-qq", "chromium"], **apt
        ):
            return find_chromium()
    return None
