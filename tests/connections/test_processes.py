"""Single flight across OS processes on PostgreSQL: four processes, each with its own
token manager and 25 concurrent calls, refresh an expiring token exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

from tests.connections.conftest import APP_ID, APP_SECRET
from tests.kit import storage
from tests.support import accounts
from tests.support.simulator import Sim
from tunedeck.connections import repository as repo
from tunedeck.kit.db import Database, utcnow
from tunedeck.migrations.apply import upgrade_database

WORKER = Path(__file__).with_name("refresh_worker.py")
PROCESSES = 4
CALLS_EACH = 25


async def test_four_processes_refresh_once(postgres_url: str, sim: Sim) -> None:
    await upgrade_database(postgres_url)
    db = Database(postgres_url)
    minted = sim.mint(expires_in=120, pkce=True)
    # A slow token endpoint widens the window in which the processes' refreshes overlap.
    sim.knobs(latency_ms=150)
    try:
        account = await accounts.create_account(db, storage.unique())
        async with db.session() as session:
            await repo.save_app_credentials(
                session, storage.TEST_KEYRING, account.id, APP_ID, APP_SECRET
            )
            await repo.save_connection(
                session,
                storage.TEST_KEYRING,
                account.id,
                access_token=minted["access_token"],
                refresh_token=minted["refresh_token"],
                expires_at=utcnow() + timedelta(minutes=2),
                scopes=minted["scope"],
                spotify_user_id="demo",
            )

        env = {**os.environ, "TUNEDECK_ENCRYPTION_KEYS": storage.TEST_KEYRING.serialize()}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
        args = [postgres_url, str(account.id), sim.base, str(CALLS_EACH)]
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(WORKER),
                *args,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            assert worker.stdout is not None
            line = await asyncio.wait_for(worker.stdout.readline(), 60)
            assert line.strip() == b"ready"
        for worker in workers:  # every process starts at once
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
        await asyncio.gather(*(w.stdin.drain() for w in workers if w.stdin is not None))
        outputs = [await asyncio.wait_for(w.communicate(), 60) for w in workers]

        reports = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
        assert [w.returncode for w in workers] == [0] * PROCESSES, [e for _, e in outputs]
        assert reports == [{"ok": CALLS_EACH, "errors": []}] * PROCESSES
        assert sim.token_calls() == 1
        async with db.session() as session:
            row = await repo.connection(session, storage.TEST_KEYRING, account.id)
        assert row is not None
        assert row.access_token != minted["access_token"]
        # PKCE rotation: the stored refresh token is the new one, not the spent one.
        assert row.refresh_token not in (None, minted["refresh_token"])
        assert row.expires_at - utcnow() > timedelta(minutes=55)
    finally:
        await db.dispose()
