"""Two ``tunedeck serve`` processes on PostgreSQL + Redis: a revocation made through one
closes the live connections held by the other, and a stopping server closes its live
connections cleanly (1001)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.kit import storage
from tests.realtime.feed_support import LIVE, feed
from tests.realtime.support import LIVENESS
from tests.realtime.test_feed import streamer
from tests.support import accounts
from tests.support.servers import free_port
from tests.support.simulator import Sim
from tunedeck.kit.db import Database


@asynccontextmanager
async def serve_process(
    database_url: str,
    redis_url: str,
    sim: Sim,
    data_dir: Path,
    *,
    env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """``tunedeck serve`` on the test's database, Redis and simulator (``env`` added)."""
    port = free_port()
    env = {
        **os.environ,
        "TUNEDECK_DATABASE_URL": database_url,
        "TUNEDECK_REDIS_URL": redis_url,
        "TUNEDECK_ENCRYPTION_KEYS": storage.TEST_KEYRING.serialize(),
        "TUNEDECK_DATA_DIR": str(data_dir),
        "TUNEDECK_SPOTIFY_API_URL": f"{sim.base}/v1",
        "TUNEDECK_SPOTIFY_ACCOUNTS_URL": sim.base,
        **(env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", "from tunedeck.cli import main; main()"),
        *("serve", "--port", str(port)),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(int(LIVENESS * 10)):
                if process.returncode is not None:
                    raise RuntimeError("serve exited before listening")
                try:
                    await http.get(f"{base}/openapi.json")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        yield base, process
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), LIVENESS)


@pytest.mark.postgres_only
async def test_revoking_through_one_process_closes_the_other_s_connections(
    database_url: str, bus_url: str, database: Database, sim: Sim, tmp_path: Path
) -> None:
    keys = await streamer(database, sim)
    async with (
        serve_process(database_url, bus_url, sim, tmp_path / "a") as (one, _),
        serve_process(database_url, bus_url, sim, tmp_path / "b") as (two, _),
    ):
        ws_one = one.replace("http://", "ws://") + LIVE
        async with (
            feed(ws_one, auth_message={"type": "auth", "token": keys.overlay}) as overlay,
            feed(ws_one, token=keys.key) as key_client,
        ):
            await overlay.wait_for("now_playing")
            await key_client.wait_for("now_playing")
            async with httpx.AsyncClient(base_url=two, headers=keys.headers) as http:
                answer = await http.delete(f"/v1/overlay-tokens/{keys.overlay_id}")
                assert answer.status_code in (200, 204), answer.text
            assert await overlay.wait_closed(LIVENESS) == (4401, "credential revoked")
            assert not key_client.closed
            # The command line revokes in the database alone, with no bus: closed too.
            await accounts.revoke_key(database, keys.key_id)
            assert await key_client.wait_closed(LIVENESS) == (4401, "credential revoked")


@pytest.mark.postgres_only
async def test_a_stopping_server_closes_live_connections_with_1001(
    database_url: str, bus_url: str, database: Database, sim: Sim, tmp_path: Path
) -> None:
    keys = await streamer(database, sim)
    async with serve_process(database_url, bus_url, sim, tmp_path) as (base, process):
        async with feed(base.replace("http://", "ws://") + LIVE, token=keys.key) as client:
            await client.wait_for("now_playing")
            process.send_signal(signal.SIGTERM)
            assert await client.wait_closed(LIVENESS) == (1001, "server shutting down")
        # It stops (uvicorn re-raises the signal once shut down, hence -SIGTERM).
        assert await asyncio.wait_for(process.wait(), LIVENESS) in (0, -signal.SIGTERM)
