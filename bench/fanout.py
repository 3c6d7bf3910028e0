"""Fan-out of the live feed: 5,000 WebSocket clients on one ``tunedeck serve`` process.

The server runs as its own process (SQLite, Redis bus, no poller); the clients run here,
as light sans-I/O probes (``bench/ws_probe.py``). Each round publishes one event on the
account's Redis channel and times its arrival at every client (publish -> bytes read,
one clock): p50/p99 over all clients and rounds (goal p99 <= 500 ms). The server's
memory per idle connection comes from its RSS before and after the clients connect
(goal <= 30 KiB). Baseline in the same run: the
same rounds with 100 clients.

The p99 of each round is printed too: a round that meets one of CPython's full garbage
collections (the loop stops while it walks every object, a few hundred per connection)
is late by that pause, the others are not.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.databases import REDIS_URL
from bench.ws_probe import Probe, open_probe
from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import operator
from tunedeck.events.bus import RedisBus
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.migrations.apply import upgrade_database

CLIENTS = 5000
BASELINE = 100
ROUNDS = 5
SERVER_LOG = Path(tempfile.gettempdir()) / "tunedeck-fanout-server.log"
CONNECT_BATCH = 200
LIVE_PATH = "/v1/spotify/live"


def _raise_open_files(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted)) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _prepare(url: str) -> tuple[uuid.UUID, str]:
    await upgrade_database(url)
    db = Database(url)
    try:
        units = UnitsOfWork(db)
        account = await accounts.create_account(units, f"fanout-{uuid.uuid4().hex[:8]}")
        key = await accounts.create_key(operator(units, account), "bench", ["spotify:read"])
    finally:
        await db.dispose()
    return account.id, key.key


async def _wait_up(base: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                await http.get(f"{base}/openapi.json")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


class Fleet:
    """The bench's clients (probes) and the round in progress: when each got its event."""

    def __init__(self) -> None:
        self.probes: list[Probe] = []
        self.target = b""
        self.arrived: dict[int, float] = {}
        self.all_arrived: asyncio.Future[None] | None = None

    def on_text(self, probe: Probe, payload: bytes, arrived: float) -> None:
        if self.target and self.target in payload and id(probe) not in self.arrived:
            self.arrived[id(probe)] = arrived
            if len(self.arrived) == len(self.probes) and self.all_arrived is not None:
                self.all_arrived.set_result(None)

    async def connect(self, port: int, url: str, key: str, count: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        for start in range(0, count, CONNECT_BATCH):
            batch = min(CONNECT_BATCH, count - start)
            self.probes += await asyncio.gather(
                *(open_probe("127.0.0.1", port, url, headers, self.on_text) for _ in range(batch))
            )
        # Each got hello and now_playing before anything is timed.
        for _ in range(600):
            if all(probe.texts >= 2 for probe in self.probes):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the clients did not all get hello and now_playing")

    def close(self) -> None:
        for probe in self.probes:
            probe.close()


async def _round(bus: RedisBus, account_id: uuid.UUID, fleet: Fleet) -> list[float]:
    event_id = str(uuid.uuid4())
    payload = {
        "id": event_id,
        "account_id": str(account_id),
        "type": "spotify:skip",
        "occurred_at": datetime.now(UTC).isoformat(),
        "actor": {"key_id": None, "label": "bench", "kind": "api_key"},
        "params": {},
        "track": None,
    }
    fleet.target = event_id.encode()
    fleet.arrived = {}
    fleet.all_arrived = asyncio.get_running_loop().create_future()
    sent = time.perf_counter()
    await bus.publish(account_id, {"type": "event", "event": payload})
    await asyncio.wait_for(fleet.all_arrived, 120)
    return [(t - sent) * 1000 for t in fleet.arrived.values()]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(
    port: int, key: str, bus: RedisBus, account_id: uuid.UUID, count: int, pid: int
) -> dict[str, Any]:
    before = _rss_kib(pid)
    fleet = Fleet()
    await fleet.connect(port, f"ws://127.0.0.1:{port}{LIVE_PATH}", key, count)
    await asyncio.sleep(2)  # idle
    after = _rss_kib(pid)
    latencies: list[float] = []
    round_p99s: list[float] = []
    for _ in range(ROUNDS):
        delivered = await _round(bus, account_id, fleet)
        latencies += delivered
        round_p99s.append(_percentile(delivered, 0.99))
        await asyncio.sleep(0.3)
    fleet.close()
    await asyncio.sleep(1)
    return {
        "clients": count,
        "p50": statistics.median(latencies),
        "p99": _percentile(latencies, 0.99),
        "max": max(latencies),
        "kib_per_conn": (after - before) / count,
        "round_p99s": round_p99s,
    }


async def _run() -> None:
    limit = _raise_open_files(CLIENTS * 2 + 1000)
    if limit < CLIENTS + 200:
        print(f"open-files limit {limit} is too low for {CLIENTS} clients")
        return
    with tempfile.TemporaryDirectory() as data_dir:
        url = f"sqlite:///{data_dir}/fanout.db"
        account_id, key = await _prepare(url)
        port = _free_port()
        env = {
            **os.environ,
            "TUNEDECK_DATA_DIR": data_dir,
            "TUNEDECK_DATABASE_URL": url,
            "TUNEDECK_REDIS_URL": REDIS_URL,
            "TUNEDECK_ENCRYPTION_KEYS": Keyring.generate().serialize(),
            "TUNEDECK_POLL_IN_PROCESS": "false",
        }
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", "from tunedeck.cli import main; main()"),
            *("serve", "--port", str(port)),
            env=env,
            stdout=subprocess.DEVNULL,
            # The server's own log, to read when a run goes wrong.
            stderr=open(SERVER_LOG, "wb"),  # noqa: SIM115, ASYNC230 (held by the child)
        )
        bus = RedisBus(REDIS_URL)
        try:
            base = f"http://127.0.0.1:{port}"
            await _wait_up(base)
            await bus.start()
            # A few clients warm the server up (imports, pools) before RSS is read.
            await _measure(port, key, bus, account_id, 10, server.pid)
            small = await _measure(port, key, bus, account_id, BASELINE, server.pid)
            large = await _measure(port, key, bus, account_id, CLIENTS, server.pid)
        finally:
            await bus.close()
            server.terminate()
            await asyncio.wait_for(server.wait(), 60)
    for row in (small, large):
        print(
            f"{int(row['clients']):>5} clients: "
            f"delivery p50 {row['p50']:7.1f} ms  "
            f"p99 {row['p99']:7.1f} ms  max {row['max']:7.1f} ms  "
            f"server memory {row['kib_per_conn']:5.1f} KiB per idle connection"
        )
        print("       p99 of each round: " + ", ".join(f"{v:.0f}" for v in row["round_p99s"]))
    print(
        f"p99 {large['p99']:.1f} ms for {CLIENTS} clients (goal <= 500 ms): "
        f"{large['p99'] / max(small['p99'], 0.001):.1f}x the {BASELINE}-client baseline for "
        f"{CLIENTS / BASELINE:.0f}x the clients; memory {large['kib_per_conn']:.1f} KiB per "
        f"connection (goal <= 30 KiB)"
    )


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    main()
