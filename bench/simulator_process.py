"""Run the Spotify simulator in its own process for benchmarks, with many users."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tunedeck.simulator.defaults import DEMO_CLIENT_ID


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_users(count: int) -> list[dict[str, object]]:
    """``count`` premium users, each playing a playlist of its own on one device."""
    return [
        {
            "id": f"bench-{n}",
            "devices": [{"id": f"bench-device-{n:04d}", "name": f"Bench PC {n}"}],
            "playlists": [{"id": f"benchlist{n:013d}", "name": f"Bench {n}", "track_count": 30}],
            "playback": {"device_id": f"bench-device-{n:04d}", "playlist_id": f"benchlist{n:013d}"},
        }
        for n in range(count)
    ]


@contextmanager
def simulator(users: int, **knobs: object) -> Iterator[str]:
    """Start ``tunedeck simulator`` with ``users`` extra users; yield its base URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "simulator.json"
        config.write_text(json.dumps({"users": bench_users(users), **knobs}))
        command = [sys.executable, "-c", "from tunedeck.cli import main; main()"]
        args = ["simulator", "--port", str(port), "--config", str(config)]
        process = subprocess.Popen(
            [*command, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"simulator exited: {stderr}")
        try:
            httpx.get(f"{url}/_sim/config", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("simulator did not start in 30 s")


def mint_tokens(url: str, users: int) -> list[str]:
    """One access token per bench user, minted through the control API."""
    tokens = []
    with httpx.Client(base_url=url) as client:
        for n in range(users):
            response = client.post(
                "/_sim/tokens",
                json={"user": f"bench-{n}", "client_id": DEMO_CLIENT_ID, "expires_in": 3600},
            )
            response.raise_for_status()
            tokens.append(str(response.json()["access_token"]))
    return tokens
