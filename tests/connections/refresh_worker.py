"""One OS process of the cross-process single-flight test (tests/connections/test_processes.py).

    python refresh_worker.py DB_URL ACCOUNT_ID SIM_BASE CALLS

Reads the keyring from TUNEDECK_ENCRYPTION_KEYS, makes CALLS clients for the account
through its own TokenManager, prints ``ready``, waits for a line on stdin (the start
signal), then makes one playback call with each client, all at once, and prints
``{"ok": n, "errors": [...]}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import httpx

from tunedeck.config import Settings
from tunedeck.connections.token_manager import TokenManager
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.spotify.client import SpotifyClient


async def run(db_url: str, account_id: uuid.UUID, sim_base: str, calls: int) -> None:
    keys = os.environ["TUNEDECK_ENCRYPTION_KEYS"]
    settings = Settings(
        database_url=db_url,
        encryption_keys=keys,
        spotify_api_url=f"{sim_base}/v1",
        spotify_accounts_url=sim_base,
    )
    db = Database(db_url)
    async with httpx.AsyncClient(timeout=30) as http:
        manager = TokenManager(db, Keyring.parse(keys), http, settings)
        # Clients are made before the start signal (each reads the connection row once),
        # so that at the signal all calls meet the expiring token at the same moment and
        # the processes hold few database connections (the server's limit is shared).
        clients = [await manager.client_for(account_id) for _ in range(calls)]
        await http.get(f"{sim_base}/_sim/stats")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        async def one(client: SpotifyClient) -> str | None:
            try:
                playback = await client.playback()
            except Exception as exc:
                return repr(exc)
            return None if playback is not None else "no playback"

        outcomes = await asyncio.gather(*(one(c) for c in clients))
    await db.dispose()
    errors = [o for o in outcomes if o is not None]
    print(json.dumps({"ok": calls - len(errors), "errors": errors[:3]}), flush=True)


if __name__ == "__main__":
    url, account, sim, count = sys.argv[1:]
    asyncio.run(run(url, uuid.UUID(account), sim, int(count)))
