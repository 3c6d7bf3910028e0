"""``tunedeck serve`` on a fresh data directory, in its own process, as a streamer starts
it; with a Spotify simulator in this process standing in for Spotify (its apps are
created as a streamer creates theirs on Spotify's developer dashboard)."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port, serve_in_thread
from tunedeck.setup.console import RULE
from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.config import SimulatorConfig

START_TIMEOUT = 90.0
STREAMER_APP = "streamerapp0123456789"
STREAMER_SECRET = "streamersecret0123456789"


@dataclass
class Served:
    """A running ``tunedeck serve``: where it listens and everything it wrote (standard
    output and its log), read on while it runs."""

    process: subprocess.Popen[str]
    origin: str
    lines: list[str] = field(default_factory=list)

    @property
    def setup_link(self) -> str | None:
        found = [line.strip() for line in self.lines if "/setup#code=" in line]
        return found[0] if found else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without its TUNEDECK_* settings, plus ``settings``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TUNEDECK_")}
    return {**environ, "TUNEDECK_DATA_DIR": str(data_dir), **settings}


def start_serve(
    command: list[str], env: dict[str, str], cwd: Path, port: int | None = None
) -> Served:
    """Start ``command serve`` and return once it printed its banner (the server
    listens then); its output is read on until it ends."""
    port = port or free_port()
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
    )
    served = Served(process, f"http://127.0.0.1:{port}")
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.lines.append(line.rstrip("\n"))
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, name="serve-output", daemon=True).start()
    rules = 0
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while rules < 2:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            if line is None:
                raise AssertionError(f"serve exited {process.wait()}: {served.lines[-40:]}")
            rules += line == RULE
    except BaseException:
        served.stop()
        raise
    return served


@contextmanager
def simulator(**config: Any) -> Iterator[str]:
    """A simulator serving on a free port (its base URL): Spotify for the test."""
    app = create_simulator_app(SimulatorConfig(**config))
    with serve_in_thread(app) as base:
        yield base


def spotify_settings(sim_base: str) -> dict[str, str]:
    return {
        "TUNEDECK_SPOTIFY_API_URL": f"{sim_base}/v1",
        "TUNEDECK_SPOTIFY_ACCOUNTS_URL": sim_base,
    }


def create_app_on_spotify(
    sim_base: str,
    redirect_uris: list[str],
    *,
    users: list[str] | None = None,
    client_id: str = STREAMER_APP,
) -> None:
    """What the streamer does on Spotify's developer dashboard: create the app."""
    answer = httpx.put(
        f"{sim_base}/_sim/apps/{client_id}",
        json={
            "client_secret": STREAMER_SECRET,
            "name": "TuneDeck",
            "redirect_uris": redirect_uris,
            "users": users,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
