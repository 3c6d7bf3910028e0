"""A real ``tunedeck demo`` process for the benchmarks (serve, poller and simulator on
one port, the account ``demo`` connected and playing)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Demo:
    process: subprocess.Popen[str]
    origin: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def sim(self, path: str) -> str:
        """A control URL of the simulator's user ``demo`` (``/app-actions``...)."""
        return f"{self.origin}/spotify-sim/_sim/users/demo{path}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(data_dir: Path) -> Demo:
    """Start the demo on a free port with its own data dir; returns once it printed its key."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEDECK_")}
    env["TUNEDECK_DATA_DIR"] = str(data_dir)
    command = [sys.executable, "-c", "from tunedeck.cli import main; main()"]
    process = subprocess.Popen(
        [*command, "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        found = re.search(r"Admin key: (\S+)", line)
        if found:
            return Demo(process, f"http://127.0.0.1:{port}", found.group(1))
        if not line and process.poll() is not None:
            break
    process.kill()
    raise SystemExit("the demo did not start")
