"""Two ``tunedeck worker`` processes on PostgreSQL + Redis share the watched accounts:
each account is polled by exactly one of them; after a SIGKILL the survivor polls the
dead one's accounts too. Each worker reaches the simulator under its own path prefix,
so the simulator's record of requests says which process polled which account (by
its token); the record's single clock orders the polls, nothing measures a duration."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from tests.kit.storage import TEST_KEYRING
from tests.realtime.conftest import connect, new_account, realtime_settings
from tests.realtime.recorder import Recorder
from tests.realtime.support import eventually
from tests.support.simulator import Sim
from tunedeck.kit.db import Database
from tunedeck.kit.leases import Leases, new_owner
from tunedeck.realtime.poll_leases import lease_name
from tunedeck.realtime.watch import WatchRegistry

ACCOUNTS = 8
LEASE_TTL = 3.0


class WorkerProcess:
    """A ``tunedeck worker`` polling the simulator under ``prefix``."""

    def __init__(self, prefix: str, log: Path) -> None:
        self.prefix = prefix
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, env: dict[str, str], sim: Sim, max_accounts: int) -> None:
        env = {
            **env,
            "TUNEDECK_SPOTIFY_API_URL": f"{sim.base}{self.prefix}/v1",
            "TUNEDECK_POLL_MAX_ACCOUNTS": str(max_accounts),
        }
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from tunedeck.cli import main; main()",
                "worker",
                env=env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    async def wait(self) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), 60)


def polled_by(recorder: Recorder, tokens: dict[str, uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """For each account, the prefixes of the processes that polled it, in arrival order."""
    seen: dict[uuid.UUID, list[str]] = defaultdict(list)
    for request in sorted(recorder.polls(), key=lambda r: r.arrived):
        if request.token in tokens:
            seen[tokens[request.token]].append(request.prefix)
    return seen


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_two_workers_share_the_accounts_and_take_over_after_sigkill(
    database_url: str,
    database: Database,
    bus_url: str | None,
    sim: Sim,
    recorder: Recorder,
    tmp_path: Path,
) -> None:
    assert bus_url is not None
    tokens: dict[str, uuid.UUID] = {}
    for n in range(ACCOUNTS):
        account = await new_account(database)
        minted = await connect(database, sim, account, ("demo", "free")[n % 2])
        tokens[minted["access_token"]] = account
    accounts = set(tokens.values())

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
        "TUNEDECK_DATABASE_URL": database_url,
        "TUNEDECK_REDIS_URL": bus_url,
        "TUNEDECK_ENCRYPTION_KEYS": TEST_KEYRING.serialize(),
        "TUNEDECK_DATA_DIR": str(tmp_path),
        "TUNEDECK_SPOTIFY_ACCOUNTS_URL": sim.base,
        "TUNEDECK_POLL_PLAYING_SECONDS": "0.2",
        "TUNEDECK_POLL_PAUSED_SECONDS": "0.2",
        "TUNEDECK_POLL_IDLE_SECONDS": "0.2",
        "TUNEDECK_POLL_RECONCILE_SECONDS": "0.1",
        "TUNEDECK_POLL_LEASE_SECONDS": str(LEASE_TTL),
    }
    # The clients of every account are on a serve process of their own (this test).
    settings = realtime_settings(database_url, bus_url, tmp_path, sim)
    clients = WatchRegistry(database, settings, new_owner("clients"))
    for account in accounts:
        clients.connected(account)
    await clients.start()
    first, second = WorkerProcess("/a", tmp_path / "a.log"), WorkerProcess("/b", tmp_path / "b.log")
    leases = Leases(database)
    try:
        # The first worker takes the half it has room for, the second the rest.
        await first.start(env, sim, max_accounts=ACCOUNTS // 2)

        async def first_full() -> bool:
            return len({a for a, p in polled_by(recorder, tokens).items() if "/a" in p}) == (
                ACCOUNTS // 2
            )

        await eventually(first_full, what=f"the first worker polling {ACCOUNTS // 2} accounts")
        await second.start(env, sim, max_accounts=ACCOUNTS)

        async def all_polled() -> bool:
            seen = polled_by(recorder, tokens)
            return set(seen) == accounts and all(len(p) >= 3 for p in seen.values())

        await eventually(all_polled, what="every account polled three times")
        shares = {
            account: set(prefixes) for account, prefixes in polled_by(recorder, tokens).items()
        }
        assert all(len(share) == 1 for share in shares.values()), shares  # one process each
        first_share = {a for a, share in shares.items() if share == {"/a"}}
        assert len(first_share) == ACCOUNTS // 2

        # SIGKILL: no goodbye, its leases expire; the second worker takes its accounts.
        first.kill(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL

        async def taken_over() -> bool:
            seen = polled_by(recorder, tokens)
            return all(seen[a][-1] == "/b" for a in first_share)

        await eventually(taken_over, what="the dead worker's accounts polled by the other")
        for account, prefixes in polled_by(recorder, tokens).items():
            # Never back and forth: all the first worker's polls, then only the second's.
            switches = sum(1 for x, y in itertools.pairwise(prefixes) if x != y)
            assert switches == (1 if account in first_share else 0), prefixes
        holders = await leases.holders(lease_name(a) for a in accounts)
        assert len({state.owner for state in holders.values()}) == 1

        # A graceful stop gives the leases back.
        second.kill(signal.SIGTERM)
        assert await second.wait() == 0, second.output()
        assert await leases.holders(lease_name(a) for a in accounts) == {}
    finally:
        for process in (first, second):
            if process.proc is not None and process.proc.returncode is None:
                process.kill(signal.SIGKILL)
                await process.wait()
        await clients.stop()
