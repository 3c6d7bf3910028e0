"""Three ``tunedeck serve`` and two ``tunedeck worker`` processes on one PostgreSQL and one
Redis, started together on an empty database: the whole path crosses them. A command sent
to serve #1 is recorded there; the live feed opened on serve #2 receives its event and the
``now_playing`` change that a worker polled (serve runs with polling off, so only a worker
can have polled); a read on serve #3 sees the new track and the event. Exactly one worker
polls the account: it holds the account's lease, and only its path prefix appears in the
simulator's record (each worker reaches the simulator under its own prefix)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.kit.storage import TEST_KEYRING
from tests.realtime.conftest import connect, new_account
from tests.realtime.feed_support import LIVE, feed, make_keys
from tests.realtime.recorder import Recorder
from tests.realtime.support import LIVENESS, eventually, track_uri
from tests.support import services
from tests.support.server_process import server_env
from tests.support.servers import free_port
from tests.support.simulator import Sim
from tunedeck.kit.db import Database
from tunedeck.kit.leases import Leases
from tunedeck.realtime.poll_leases import lease_name

WORKER_PREFIXES = ("/a", "/b")  # the recorder serves the simulator under these too


@dataclass
class Process:
    """One ``tunedeck`` subprocess, its output in ``log``: started and awaited from the
    test's event loop (all five at once), a worker ready when it says it polls."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    proc: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from tunedeck.cli import main; main()",
                *self.argv,
                env=self.env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def ready(self) -> None:
        """Serve: it answers HTTP (any status); worker: it says it is polling."""

        async def up() -> bool:
            assert self.proc is not None
            if self.proc.returncode is not None:
                raise AssertionError(f"{self.name} exited:\n{self.output()}")
            if self.port is None:
                return " is polling" in self.output()
            try:
                async with httpx.AsyncClient(timeout=2) as http:
                    await http.get(f"{self.base}/healthz")
            except httpx.HTTPError:
                return False
            return True

        await eventually(up, what=f"{self.name} ready")

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), LIVENESS / 2)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture
def empty_database_url(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database, not migrated: the processes migrate it at start."""
    url = services.create_database()
    try:
        yield url
    finally:
        services.drop_database(url)


def cluster(database_url: str, redis_url: str, sim: Sim, tmp_path: Path) -> list[Process]:
    # The environment of tests/support/server_process.py: this checkout's sources, no
    # TUNEDECK_* of the developer's own.
    common = server_env(
        database_url=database_url,
        redis_url=redis_url,
        encryption_keys=TEST_KEYRING.serialize(),
        spotify_accounts_url=sim.base,
        poll_reconcile_seconds="0.2",
    )
    processes = []
    for n in (1, 2, 3):
        port = free_port()
        env = {
            **common,
            "TUNEDECK_DATA_DIR": str(tmp_path / f"serve{n}"),
            "TUNEDECK_SPOTIFY_API_URL": f"{sim.base}/v1",
            "TUNEDECK_POLL_IN_PROCESS": "false",
        }
        argv = ["serve", "--port", str(port)]
        processes.append(Process(f"serve{n}", argv, env, tmp_path / f"serve{n}.log", port))
    for prefix in WORKER_PREFIXES:
        env = {
            **common,
            "TUNEDECK_DATA_DIR": str(tmp_path / f"worker-{prefix[1:]}"),
            "TUNEDECK_SPOTIFY_API_URL": f"{sim.base}{prefix}/v1",
        }
        name = f"worker-{prefix[1:]}"
        processes.append(Process(name, ["worker"], env, tmp_path / f"{name}.log"))
    return processes


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_command_feed_poll_and_read_across_three_serves_and_two_workers(
    empty_database_url: str, redis_url: str, sim: Sim, recorder: Recorder, tmp_path: Path
) -> None:
    processes = cluster(empty_database_url, redis_url, sim, tmp_path)
    serve1, serve2, serve3, worker_a, worker_b = processes
    workers = dict(zip(WORKER_PREFIXES, (worker_a, worker_b), strict=True))
    database = Database(empty_database_url)
    try:
        await asyncio.gather(*(p.start() for p in processes))
        await asyncio.gather(*(p.ready() for p in processes))  # all migrated the same database

        account = await new_account(database)
        token = (await connect(database, sim, account))["access_token"]
        keys = await make_keys(database, account)

        def worker_polls() -> list[str]:
            """The prefixes of the worker polls of the account, in arrival order."""
            polls = sorted(recorder.polls(token), key=lambda r: r.arrived)
            return [r.prefix for r in polls if r.prefix in WORKER_PREFIXES]

        ws2 = serve2.base.replace("http://", "ws://") + LIVE
        async with feed(ws2, token=keys.key) as client:
            first = (await client.wait_for("now_playing"))[0]
            before = track_uri(first)
            assert before is not None  # the simulator's demo user is playing

            # Watched through serve #2's heartbeat: a worker takes the lease and polls.
            async def polled() -> bool:
                return bool(worker_polls())

            await eventually(polled, what="a worker polling the watched account")

            async with httpx.AsyncClient(base_url=serve1.base, headers=keys.headers) as http:
                answer = await http.post("/v1/spotify/playback", json={"action": "next"})
                assert answer.status_code == 200, answer.text
            command = max(
                r.answered
                for r in recorder.snapshot()
                if r.method == "POST" and r.path == "/v1/me/player/next" and r.token == token
            )

            # The event recorded by serve #1 reaches the feed on serve #2 through Redis.
            (skip,) = await client.wait_for(
                "event", where=lambda m: m["event"]["type"] == "spotify:skip"
            )
            assert skip["event"]["account_id"] == str(account)
            # The new track, published by the worker whose poll saw it.
            changed = await client.wait_for(
                "now_playing", where=lambda m: track_uri(m) not in (None, before)
            )
            after = track_uri(changed[0])
            seen_by = [
                r.prefix
                for r in recorder.polls(token)
                if r.arrived > command and r.prefix in WORKER_PREFIXES
            ]
            assert seen_by, "the new track was published with no worker poll after the command"

        # A read on serve #3 sees the new track and the event serve #1 recorded.
        async with httpx.AsyncClient(base_url=serve3.base, headers=keys.headers) as http:
            state = await http.get("/v1/spotify/state")
            assert state.status_code == 200, state.text
            assert state.json()["now_playing"]["track"]["uri"] == after
            events = await http.get("/v1/spotify/events", params={"type": "spotify:skip"})
            assert events.status_code == 200, events.text
            assert [e["id"] for e in events.json()["items"]] == [skip["event"]["id"]]

        # Exactly one worker polled the account, and it holds the account's lease.
        (prefix,) = set(worker_polls())
        poller = workers[prefix]
        holders = await Leases(database).holders([lease_name(account)])
        owner = holders[lease_name(account)].owner
        assert str(poller.pid) in owner.split(":"), (owner, poller.pid)
        assert all(str(p.pid) not in owner.split(":") for p in processes if p is not poller)
    finally:
        await asyncio.gather(*(p.stop() for p in processes))
        await database.dispose()
    assert all(p.proc is None or p.proc.returncode is not None for p in processes)
    # A graceful stop: each process exited on SIGTERM, not from an error of its own.
    for p in processes:
        assert p.proc is not None
        assert p.proc.returncode in (0, -signal.SIGTERM), (p.name, p.output()[-3000:])
