"""Fan-out of the live feed: 10,000 WebSocket clients on one ``tunedeck serve`` process.

The server runs as its own process (SQLite, Redis bus, no poller), its connection caps
raised so that every client may use one key from one address; the clients run here, as
light sans-I/O probes (``bench/ws_probe.py``) on uvloop, this process's objects frozen
out of its garbage collections once they are connected. Each round publishes one event
on the account's Redis channel and times its arrival at every client (publish -> bytes
read, one clock). Goals: p99 <= 500 ms in every round; the server's memory per idle
connection (its RSS before and after the clients connect) <= 25 KiB. Baseline in the
same run: the same rounds with 100 clients.

Printed per size: p50/p99/max over all rounds, the p99 of each round (a round that meets
one of CPython's full garbage collections in the server is late by that pause), the
server's CPU time per round (the fan-out's own cost, whatever else runs on the machine)
and the load average, since the machine is shared. ``TUNEDECK_FANOUT_CLIENTS`` changes
the number of clients.
"""

from __future__ import annotations

import asyncio
import gc
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
import uvloop

from bench.databases import REDIS_URL
from bench.ws_probe import Probe, open_probe
from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import operator
from tunedeck.events.bus import RedisBus
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.migrations.apply import upgrade_database

CLIENTS = int(os.environ.get("TUNEDECK_FANOUT_CLIENTS", "10000"))
BASELINE = 100
ROUNDS = 8
GOAL_P99_MS = 500
GOAL_KIB = 25
SERVER_LOG = Path(tempfile.gettempdir()) / "tunedeck-fanout-server.log"
CONNECT_BATCH = 200
LIVE_PATH = "/v1/spotify/live"
TICKS = os.sysconf("SC_CLK_TCK")


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


def _cpu_ms(pid: int) -> float:
    """The process's CPU time so far (user + system), in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


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
    """The bench's clients (probes) and the round in progress."""

    def __init__(self) -> None:
        self.probes: list[Probe] = []
        self.spotted = 0
        self.all_spotted: asyncio.Future[None] | None = None

    def on_spotted(self, probe: Probe) -> None:
        self.spotted += 1
        if self.spotted == len(self.probes) and self.all_spotted is not None:
            self.all_spotted.set_result(None)

    async def connect(self, port: int, url: str, key: str, count: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        for start in range(0, count, CONNECT_BATCH):
            batch = min(CONNECT_BATCH, count - start)
            self.probes += await asyncio.gather(
                *(
                    open_probe("127.0.0.1", port, url, headers, self.on_spotted)
                    for _ in range(batch)
                )
            )
        # Each got hello and now_playing before anything is timed.
        for _ in range(1200):
            if all(probe.texts >= 2 for probe in self.probes):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("the clients did not all get hello and now_playing")

    async def round(self, bus: RedisBus, account_id: uuid.UUID) -> list[float]:
        """Publish one event; ms from the publish to its arrival at each client."""
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
        for probe in self.probes:
            probe.expect(event_id.encode())
        self.spotted = 0
        self.all_spotted = asyncio.get_running_loop().create_future()
        sent = time.perf_counter()
        await bus.publish(account_id, {"type": "event", "event": payload})
        await asyncio.wait_for(self.all_spotted, 120)
        delays = [(p.spotted_at - sent) * 1000 for p in self.probes if p.spotted_at is not None]
        for probe in self.probes:
            probe.catch_up()  # the pings answered, between rounds
        if any(probe.closed for probe in self.probes):
            raise RuntimeError("a client was closed by the server")
        return delays

    def close(self) -> None:
        for probe in self.probes:
            probe.close()


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(
    port: int, key: str, bus: RedisBus, account_id: uuid.UUID, count: int, pid: int
) -> dict[str, Any]:
    before = _rss_kib(pid)
    fleet = Fleet()
    started = time.perf_counter()
    await fleet.connect(port, f"ws://127.0.0.1:{port}{LIVE_PATH}", key, count)
    connected_s = time.perf_counter() - started
    # This process's probes stay out of its own garbage collections while timing.
    gc.collect()
    gc.freeze()
    await asyncio.sleep(2)  # idle
    after = _rss_kib(pid)
    load_before = _load()
    latencies: list[float] = []
    round_p99s: list[float] = []
    round_cpu: list[float] = []
    for _ in range(ROUNDS):
        cpu = _cpu_ms(pid)
        delivered = await fleet.round(bus, account_id)
        round_cpu.append(_cpu_ms(pid) - cpu)
        latencies += delivered
        round_p99s.append(_percentile(delivered, 0.99))
        await asyncio.sleep(0.5)
    fleet.close()
    gc.unfreeze()
    await asyncio.sleep(1)
    return {
        "clients": count,
        "p50": statistics.median(latencies),
        "p99": _percentile(latencies, 0.99),
        "max": max(latencies),
        "kib_per_conn": (after - before) / count,
        "round_p99s": round_p99s,
        "round_cpu": round_cpu,
        "connected_s": connected_s,
        "load": f"{load_before} -> {_load()}",
    }


async def _run() -> None:
    limit = _raise_open_files(CLIENTS + 1000)
    if limit < CLIENTS + 200:
        print(f"open-files limit {limit} is too low for {CLIENTS} clients (ulimit -Hn)")
        return
    with tempfile.TemporaryDirectory() as data_dir:
        url = f"sqlite:///{data_dir}/fanout.db"
        account_id, key = await _prepare(url)
        port = _free_port()
        caps = str(CLIENTS + 100)
        env = {
            **os.environ,
            "TUNEDECK_DATA_DIR": data_dir,
            "TUNEDECK_DATABASE_URL": url,
            "TUNEDECK_REDIS_URL": REDIS_URL,
            "TUNEDECK_ENCRYPTION_KEYS": Keyring.generate().serialize(),
            "TUNEDECK_POLL_IN_PROCESS": "false",
            # Every client uses one key from one address: the caps must let them all in.
            "TUNEDECK_LIVE_MAX_PER_CREDENTIAL": caps,
            "TUNEDECK_LIVE_MAX_PER_ACCOUNT": caps,
            "TUNEDECK_LIVE_MAX_PER_ADDRESS": caps,
            "TUNEDECK_LIVE_MAX_UNAUTHENTICATED_PER_ADDRESS": caps,
        }
        server = await asyncio.create_subprocess_exec(
            # (It inherits the open-files limit raised above.)
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
            f"{int(row['clients']):>6} clients: "
            f"delivery p50 {row['p50']:7.1f} ms  "
            f"p99 {row['p99']:7.1f} ms  max {row['max']:7.1f} ms  "
            f"server memory {row['kib_per_conn']:5.1f} KiB per idle connection "
            f"(connected in {row['connected_s']:.0f} s)"
        )
        print("        p99 of each round (ms): " + ", ".join(f"{v:.0f}" for v in row["round_p99s"]))
        print(
            "        server CPU per round (ms): " + ", ".join(f"{v:.0f}" for v in row["round_cpu"])
        )
        print(f"        load average (1/5/15 min): {row['load']}")
    worst = max(large["round_p99s"])
    print(
        f"{CLIENTS} clients: worst round p99 {worst:.0f} ms (goal <= {GOAL_P99_MS} ms in every "
        f"round: {'met' if worst <= GOAL_P99_MS else 'NOT met'}), "
        f"{large['p99'] / max(small['p99'], 0.001):.1f}x the {BASELINE}-client baseline's p99 "
        f"for {CLIENTS / BASELINE:.0f}x the clients; memory {large['kib_per_conn']:.1f} KiB per "
        f"idle connection (goal <= {GOAL_KIB} KiB: "
        f"{'met' if large['kib_per_conn'] <= GOAL_KIB else 'NOT met'})"
    )


def main() -> None:
    uvloop.run(_run())


if __name__ == "__main__":
    main()
