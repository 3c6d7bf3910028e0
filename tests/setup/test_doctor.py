"""The doctor: the admin's REST door on a served TuneDeck (Spotify: the simulator), and
``tunedeck doctor`` as a command; every check a line, ✓ or ✗ with what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.setup.conftest import FreshServer
from tests.setup.test_connect_failures import callback_uri, connect, save_app
from tests.support.first_run import create_app_on_spotify
from tests.support.simulator import Sim
from tunedeck.kit.crypto import Keyring, key_file_path, write_key_file
from tunedeck.setup import service

CHECKS = [
    "Database and migrations",
    "Encryption key",
    "Redis",
    "Public URL and redirect URI",
    "Spotify reachable",
    "Clock",
    "Spotify connection of chan",
    "Poller",
]


def by_name(report: dict[str, object]) -> dict[str, dict[str, object]]:
    checks = report["checks"]
    assert isinstance(checks, list)
    return {check["name"]: check for check in checks}


async def test_the_admins_report_before_and_after_connecting(fresh: FreshServer, sim: Sim) -> None:
    link = await service.prepare_link(fresh.units)
    async with fresh.client() as http:
        made = await http.post("/v1/setup/account", json={"code": link.code, "name": "chan"})
        http.headers["X-CSRF-Token"] = made.json()["session"]["csrf_token"]
        before = (await http.get("/v1/doctor")).json()
        assert list(by_name(before)) == CHECKS
        failing = [name for name, check in by_name(before).items() if not check["ok"]]
        assert failing == ["Spotify connection of chan"]
        assert before["ok"] is False
        assert "setup page" in str(by_name(before)["Spotify connection of chan"]["fix"])
        assert callback_uri(fresh) in str(by_name(before)["Public URL and redirect URI"]["detail"])
        create_app_on_spotify(sim.base, [callback_uri(fresh)])
        await save_app(http)
        await connect(http)
        after = (await http.get("/v1/doctor")).json()
        assert after["ok"] is True, after
        assert "connected as" in str(by_name(after)["Spotify connection of chan"]["detail"])


async def test_only_an_admin_sees_the_report(fresh: FreshServer) -> None:
    async with fresh.client() as http:
        assert (await http.get("/v1/doctor")).status_code == 401


def test_the_command_says_what_to_fix(tmp_path: Path, sim: Sim) -> None:
    data = tmp_path / "data"
    write_key_file(key_file_path(data), Keyring.generate())
    os.chmod(key_file_path(data), 0o644)  # copied by hand, readable by everyone
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEDECK_")}
    env.update(
        TUNEDECK_DATA_DIR=str(data),
        TUNEDECK_SPOTIFY_API_URL=f"{sim.base}/v1",
        TUNEDECK_SPOTIFY_ACCOUNTS_URL=sim.base,
        TUNEDECK_PUBLIC_URL="http://localhost:8000",
    )
    done = subprocess.run(
        [sys.executable, "-c", "from tunedeck.cli import main; main()", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("✗ Encryption key") for line in lines), lines
    assert any("chmod 600" in line for line in lines), lines
    assert any(line.startswith("✗ Public URL") and "localhost" in line for line in lines)
    assert any("http://127.0.0.1:8000" in line for line in lines)
    assert any(line.startswith("✓ Spotify reachable") for line in lines), lines
    assert any(line.startswith("✓ Clock") for line in lines), lines
    # No database yet: the check says how to make it, and makes none itself.
    assert any(line.startswith("✗ Database") for line in lines), lines
    assert not (data / "tunedeck.db").exists()
