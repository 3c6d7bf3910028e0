"""``tunedeck serve`` killed with SIGKILL under a steady stream of commands, and started
again on the same port and database: every command that was answered 2xx has exactly
one row in ``platform_events`` once the outbox is drained, and no event is there twice.

The commands go through the real doors to the simulator (volume changes, each answered
with its event id); the client threads keep sending through the kill and the restart.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.events.support import eventually
from tests.faults.support import (
    PLAYBACK,
    Streamer,
    connected_streamer,
    drained,
    stored_event_ids,
    volume,
)
from tests.kit import storage
from tests.support.server_process import ServerProcess, server_env
from tests.support.simulator import Sim
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database

SENDERS = 3
ACKED_BEFORE_KILL = 20
ACKED_AFTER_RESTART = 20
WITHIN = 30.0


@dataclass
class Outcomes:
    """What the senders saw, shared by their threads."""

    acked: list[uuid.UUID] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # statuses other than 2xx
    cut: int = 0  # no answer: the connection failed or was cut
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.acked)


def send_steadily(
    base: str, streamer: Streamer, seat: int, out: Outcomes, stop: threading.Event
) -> None:
    """One client: volume commands one after the other until ``stop``, whatever answers."""
    n = 0
    with httpx.Client(base_url=base, headers=streamer.headers, timeout=10) as client:
        while not stop.is_set():
            n += 1
            try:
                answer = client.post(PLAYBACK, json=volume((seat * 31 + n) % 101))
            except httpx.HTTPError:
                with out.lock:
                    out.cut += 1
                time.sleep(0.02)  # the server is down: try again shortly
                continue
            with out.lock:
                if answer.is_success:
                    out.acked.append(uuid.UUID(answer.json()["event"]["id"]))
                else:
                    out.refused.append(answer.status_code)
            if answer.status_code == 429:
                time.sleep(float(answer.headers.get("Retry-After", "1")))


async def wait_for_acks(out: Outcomes, count: int) -> None:
    deadline = time.monotonic() + WITHIN
    while out.count() < count:
        assert time.monotonic() < deadline, f"only {out.count()} commands answered"
        await asyncio.sleep(0.02)


@pytest.mark.slow
@pytest.mark.postgres_only
async def test_every_acknowledged_command_is_stored_once_across_a_kill(
    fresh_database_url: str, redis_url: str, sim: Sim, tmp_path: Path
) -> None:
    await upgrade_database(fresh_database_url)
    db = Database(fresh_database_url)
    streamer = await connected_streamer(db, sim)
    server = ServerProcess(
        server_env(
            database_url=fresh_database_url,
            redis_url=redis_url,
            encryption_keys=storage.TEST_KEYRING.serialize(),
            data_dir=str(tmp_path),
            spotify_api_url=f"{sim.base}/v1",
            spotify_accounts_url=sim.base,
        )
    )
    out = Outcomes()
    stop = threading.Event()
    senders = [
        threading.Thread(target=send_steadily, args=(server.url, streamer, seat, out, stop))
        for seat in range(SENDERS)
    ]
    try:
        server.start()
        for sender in senders:
            sender.start()
        await wait_for_acks(out, ACKED_BEFORE_KILL)
        server.kill9()  # the senders are mid-request: some answers never come
        before_restart = out.count()
        server.start()  # same port, same database; the outbox is drained from here
        await wait_for_acks(out, before_restart + ACKED_AFTER_RESTART)
    finally:
        stop.set()
        for sender in senders:
            sender.join(timeout=15)
        try:
            await eventually(
                lambda: drained(db, streamer.account_id), within=WITHIN, what="outbox drained"
            )
        finally:
            server.stop()
    try:
        stored = await stored_event_ids(db, streamer.account_id)
    finally:
        await db.dispose()

    # The tally the closing figures quote (shown with ``pytest -s``).
    print(f"kill -9: {len(out.acked)} answered 2xx, {len(stored)} stored, {out.cut} cut")
    assert len(out.acked) == len(set(out.acked)) >= ACKED_BEFORE_KILL + ACKED_AFTER_RESTART
    assert {event_id: stored[event_id] for event_id in out.acked} == dict.fromkeys(out.acked, 1)
    assert [event_id for event_id, rows in stored.items() if rows > 1] == []
    # Beyond the acknowledged ones, only commands cut by the kill may have an event.
    assert len(stored) - len(out.acked) <= out.cut
    # Refusals may come from a command limit, never from a server error.
    assert [status for status in out.refused if status >= 500] == []
