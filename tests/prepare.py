"""Before the suite: make sure the browser the UI tests drive is installed.

Playwright cannot download its own browser here, so the tests drive Debian's
Chromium; install it when it is missing (the suite runs as root on CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if shutil.which("apt-get") is None:
        print("prepare: no apt-get; browser tests will report Chromium missing", file=sys.stderr)
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True, env=env
    )


if __name__ == "__main__":
    ensure_chromium()
