"""``tunedeck simulator --port N``: the standalone server announces itself and answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.servers import free_port


def test_cli_runs_the_simulator_alone(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "sim.json"
    config.write_text(json.dumps({"command_status": 202}))
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tunedeck.cli import main; main()",
            "simulator",
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        base = f"http://127.0.0.1:{port}"
        assert line == (
            f"Spotify simulator listening on {base} (Web API: {base}/v1, accounts: {base})"
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"{base}/v1/me", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "simulator did not start listening"
                time.sleep(0.05)
        assert response.status_code == 401
        token = httpx.post(f"{base}/_sim/tokens", json={}).json()["access_token"]
        paused = httpx.put(
            f"{base}/v1/me/player/pause", headers={"Authorization": f"Bearer {token}"}
        )
        assert paused.status_code == 202
    finally:
        process.terminate()
        process.wait(timeout=10)
