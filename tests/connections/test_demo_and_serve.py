"""``tunedeck demo`` and ``tunedeck serve`` as commands, in subprocesses on free ports."""

from __future__ import annotations

import os
import queue
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import services
from tests.support.servers import free_port
from tunedeck.kit.crypto import Keyring

TUNEDECK = str(Path(sys.executable).with_name("tunedeck"))
STATUS = "/v1/connections/spotify"


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEDECK_")}
    return {**env, "TUNEDECK_DATA_DIR": str(data_dir), **extra}


@contextmanager
def running(args: list[str], env: dict[str, str], cwd: Path, wait_for: str) -> Iterator[list[str]]:
    """Run a command until the block ends; yield its stdout lines once ``wait_for`` shows."""
    process = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any(wait_for in line for line in seen):
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            if line is None:
                stderr = process.stderr.read() if process.stderr else ""
                raise AssertionError(f"exited {process.wait()}: {seen} {stderr[-2000:]}")
            seen.append(line)
        yield seen
    finally:
        process.terminate()
        process.wait(timeout=20)


def admin_key(lines: list[str]) -> str:
    (key,) = [line.split(": ", 1)[1] for line in lines if line.startswith("Admin key: ")]
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_demo_bootstraps_and_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [TUNEDECK, "demo", "--port", str(port)]
    with running(args, clean_env(data), tmp_path, "GraphQL:") as lines:
        key = admin_key(lines)
        assert f"Dashboard: {base}/" in lines
        assert f"REST:      {base}/v1/spotify" in lines
        assert f"GraphQL:   {base}/graphql" in lines
        status = httpx.get(base + STATUS, headers=bearer(key)).json()
        assert status["connected"] is True
        assert status["spotify_user_id"] == "demo"
        me = httpx.get(base + "/v1/me", headers=bearer(key)).json()
        assert me["account"]["name"] == "demo"
        assert "admin" in me["permissions"]
        playback = httpx.get(f"{base}/spotify-sim/_sim/users/demo/playback").json()
        assert playback["is_playing"] is True
    # Zero configuration: a SQLite file and an owner-only key file in the data dir.
    assert (data / "tunedeck.db").exists()
    key_file = data / "encryption.keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Keyring.parse(key_file.read_text())

    with running(args, clean_env(data), tmp_path, "GraphQL:") as lines:
        again = admin_key(lines)
        assert again != key
        assert httpx.get(base + "/v1/me", headers=bearer(key)).status_code == 401
        me_again = httpx.get(base + "/v1/me", headers=bearer(again)).json()
        assert me_again["account"]["id"] == me["account"]["id"]
        assert httpx.get(base + STATUS, headers=bearer(again)).json()["connected"] is True


def test_demo_honours_database_url(tmp_path: Path) -> None:
    url = services.create_database()
    try:
        port = free_port()
        env = clean_env(tmp_path / "data", TUNEDECK_DATABASE_URL=url)
        with running([TUNEDECK, "demo", "--port", str(port)], env, tmp_path, "GraphQL:") as lines:
            status = httpx.get(f"http://127.0.0.1:{port}{STATUS}", headers=bearer(admin_key(lines)))
            assert status.json()["connected"] is True
        assert not (tmp_path / "data" / "tunedeck.db").exists()
    finally:
        services.drop_database(url)


def test_serve_migrates_and_serves(tmp_path: Path) -> None:
    port = free_port()
    db_file = tmp_path / "served.db"
    env = clean_env(
        tmp_path / "data",
        TUNEDECK_DATABASE_URL=f"sqlite:///{db_file}",
        TUNEDECK_ENCRYPTION_KEYS=Keyring.generate().serialize(),
    )
    args = [TUNEDECK, "serve", "--port", str(port)]
    process = subprocess.Popen(args, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}{STATUS}")
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 401  # up, with its routes, asking for a key
        assert db_file.exists()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_on_postgresql_without_keys_fails_clearly(tmp_path: Path) -> None:
    """A shared database's processes need the same keys: serve makes no key file there."""
    url = services.create_database()
    try:
        result = subprocess.run(
            [TUNEDECK, "serve", "--port", str(free_port())],
            env=clean_env(tmp_path / "data", TUNEDECK_DATABASE_URL=url),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        services.drop_database(url)
    assert result.returncode == 1
    assert "no encryption keys" in result.stderr
    assert not (tmp_path / "data" / "encryption.keys").exists()


def test_serve_on_a_fresh_data_dir_then_again(tmp_path: Path) -> None:
    """First start: the key file (private, announced once), the database and a setup
    link; once the link made the account, a later start prints the dashboard URL and
    where to finish setting up, with no link, and keeps the key file."""
    port = free_port()
    env = clean_env(tmp_path / "data")
    args = [TUNEDECK, "serve", "--port", str(port)]
    with running(args, env, tmp_path, wait_for="/setup#code=") as first:
        key_file = tmp_path / "data" / "encryption.keys"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert [line for line in first if "Back up this file: " in line] != []
        assert any(f"Dashboard: http://127.0.0.1:{port}/" in line for line in first)
        (link,) = [line.strip() for line in first if "/setup#code=" in line]
        code = link.split("#code=", 1)[1]
        made = httpx.post(
            f"http://127.0.0.1:{port}/v1/setup/account", json={"code": code, "name": "chan"}
        )
        assert made.status_code == 201, made.text
    keys = key_file.read_text()
    with running(args, env, tmp_path, wait_for="(sign in with the admin key") as again:
        assert not [line for line in again if "Back up this file" in line]
        assert not [line for line in again if "#code=" in line]
        assert any(f"continue at http://127.0.0.1:{port}/setup" in line for line in again)
    assert key_file.read_text() == keys
