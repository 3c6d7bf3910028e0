"""``tunedeck demo`` in its own process, exactly as a streamer starts it: on a port of
its own (free, or given to restart on the same one) with its own data dir, so that the
browser tests and the benchmarks drive the real thing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from tests.support.servers import free_port

START_TIMEOUT = 60.0


@dataclass
class DemoProcess:
    """A running demo: its process, where it listens and the admin key it printed."""

    process: subprocess.Popen[str]
    origin: str
    admin_key: str

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL if it does not end); nothing if it ended."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def start_demo(
    data_dir: Path,
    port: int | None = None,
    *,
    env: dict[str, str] | None = None,
    log_file: IO[str] | None = None,
) -> DemoProcess:
    """Start the demo; returns once it printed its admin key and answers on ``/``.

    ``env`` adds TUNEDECK_* settings; ``log_file`` receives its log (stderr), which
    otherwise comes with what it prints."""
    port = port or free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith("TUNEDECK_")}
    environ.update(env or {})
    environ["TUNEDECK_DATA_DIR"] = str(data_dir)
    command = [sys.executable, "-c", "from tunedeck.cli import main; main()"]
    process = subprocess.Popen(
        [*command, "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=log_file if log_file is not None else subprocess.STDOUT,
        text=True,
        env=environ,
    )
    demo = DemoProcess(process, f"http://127.0.0.1:{port}", "")
    try:
        demo.admin_key = _read_admin_key(process)
        httpx.get(f"{demo.origin}/", timeout=5).raise_for_status()
    except BaseException:
        demo.stop()
        raise
    # Keep reading what it prints: a full pipe would stall the demo mid-test.
    threading.Thread(target=_drain, args=(process,), name="demo-output", daemon=True).start()
    return demo


def _drain(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for _ in process.stdout:
        pass


def _read_admin_key(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
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
