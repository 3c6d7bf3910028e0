"""Named leases (kit/leases.py) on SQLite and PostgreSQL: acquire, renew, release, steal
only after expiry, in bulk; and across two real OS processes on PostgreSQL, one holder at a
time and a takeover after the holder is killed."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.kit.storage import unique
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.leases import NAME_LENGTH, Lease, Leases, new_owner
from tunedeck.migrations.apply import upgrade_database

LONG = 600.0  # a TTL no test outlives: such a lease is live for the whole test


@pytest.fixture
def leases(database: Database) -> Leases:
    return Leases(database)


def names(count: int, prefix: str = "lease") -> list[str]:
    base = unique(prefix)
    return [f"{base}:{i:04d}" for i in range(count)]


async def expire(db: Database, lease_names: Iterable[str]) -> None:
    """Make leases expired now, without waiting for it."""
    async with db.session() as session:
        await session.execute(
            update(Lease)
            .where(Lease.name.in_(list(lease_names)))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def owners(leases: Leases, lease_names: Iterable[str]) -> dict[str, str]:
    return {name: state.owner for name, state in (await leases.holders(lease_names)).items()}


async def test_acquire_renew_release(leases: Leases) -> None:
    one, two = names(2)
    held = await leases.acquire([one, two], "a", LONG)
    assert held.names == {one, two}
    assert held.expires_at is not None
    assert held.granted_at is not None
    assert held.expires_at - held.granted_at == timedelta(seconds=LONG)
    assert held.deadline <= time.monotonic() + LONG

    # Live leases are nobody else's, whichever way they ask.
    assert not await leases.acquire([one, two], "b", LONG)
    assert not await leases.acquire_free([one, two], "b", LONG, limit=5)
    assert not await leases.renew([one, two], "b", LONG)
    assert not await leases.release([one, two], "b")

    # Acquiring again is renewing: the owner keeps it, since when it first took it.
    before = await leases.holders([one])
    again = await leases.acquire([one], "a", LONG)
    assert again.names == {one}
    after = await leases.holders([one])
    assert after[one].acquired_at == before[one].acquired_at
    assert after[one].expires_at >= before[one].expires_at

    renewed = await leases.renew([one, two], "a", LONG)
    assert renewed.names == {one, two}
    assert await leases.release([one], "a") == {one}
    assert await owners(leases, [one, two]) == {two: "a"}
    # Released: free for the next one.
    assert (await leases.acquire([one, two], "b", LONG)).names == {one}
    assert await owners(leases, [one, two]) == {one: "b", two: "a"}


async def test_stolen_only_once_expired(leases: Leases, database: Database) -> None:
    (name,) = names(1)
    await leases.acquire([name], "a", LONG)
    taken_at = (await leases.holders([name]))[name].acquired_at
    assert not await leases.acquire([name], "b", LONG)

    await expire(database, [name])
    stolen = await leases.acquire([name], "b", LONG)
    assert stolen.names == {name}
    state = (await leases.holders([name]))[name]
    assert state.owner == "b"
    assert state.acquired_at > taken_at  # a new holding, not a renewal of a's

    # The old owner learns it lost the lease; it can neither renew nor release it.
    assert not await leases.renew([name], "a", LONG)
    assert not await leases.release([name], "a")
    assert await owners(leases, [name]) == {name: "b"}


async def test_a_lease_expires_by_itself(leases: Leases) -> None:
    (name,) = names(1)
    held = await leases.acquire([name], "a", 0.2)
    assert held.names == {name}
    # Past the deadline the holder may no longer rely on it, and the database agrees.
    await asyncio.sleep(max(0.0, held.deadline - time.monotonic()) + 0.05)
    assert (await leases.acquire([name], "b", LONG)).names == {name}


async def test_an_expired_lease_nobody_took_is_still_renewable(
    leases: Leases, database: Database
) -> None:
    (name,) = names(1)
    await leases.acquire([name], "a", LONG)
    acquired_at = (await leases.holders([name]))[name].acquired_at
    await expire(database, [name])
    assert (await leases.renew([name], "a", LONG)).names == {name}
    state = (await leases.holders([name]))[name]
    assert state.owner == "a"
    assert state.acquired_at == acquired_at
    assert state.expires_at > utcnow()


async def test_acquire_free_takes_up_to_the_limit_in_order(
    leases: Leases, database: Database
) -> None:
    c = names(8, "candidate")
    await leases.acquire([c[1]], "b", LONG)  # live: not free
    await leases.acquire([c[3]], "b", LONG)
    await expire(database, [c[3]])  # expired: free to take
    await leases.acquire([c[0]], "a", LONG)  # already a's: neither taken nor counted

    taken = await leases.acquire_free(c, "a", LONG, limit=3)
    assert taken.names == {c[2], c[3], c[4]}
    assert await owners(leases, c) == {c[0]: "a", c[1]: "b", c[2]: "a", c[3]: "a", c[4]: "a"}
    assert not await leases.acquire_free(c, "a", LONG, limit=0)
    assert (await leases.acquire_free(c, "b", LONG, limit=10)).names == set(c[5:])
    assert not await leases.acquire_free(c, "a", LONG, limit=10)


async def test_bulk_1000(leases: Leases) -> None:
    many = names(1000)
    held = await leases.acquire(many, "a", LONG)
    assert held.names == set(many)
    first = await leases.holders(many)
    assert {state.owner for state in first.values()} == {"a"}
    assert len(first) == 1000

    renewed = await leases.renew(many, "a", LONG)
    assert renewed.names == set(many)
    assert renewed.expires_at is not None
    assert held.expires_at is not None
    assert renewed.expires_at >= held.expires_at
    assert all(s.expires_at == renewed.expires_at for s in (await leases.holders(many)).values())

    assert not await leases.acquire(many, "b", LONG)
    assert not await leases.acquire_free(many, "b", LONG, limit=1000)
    assert await leases.release(many, "a") == set(many)
    assert await leases.holders(many) == {}


async def test_owners_racing_for_the_same_names_split_them(leases: Leases) -> None:
    """Many owners at once (concurrent transactions on PostgreSQL): each name is granted to
    exactly one of them, and the database agrees with what each was told."""
    shared = names(50)
    contenders = [f"owner-{i}" for i in range(8)]
    results = await asyncio.gather(
        *(
            leases.acquire(list(reversed(shared)) if i % 2 else shared, o, LONG)
            for i, o in enumerate(contenders)
        )
    )
    granted = [name for held in results for name in held]
    assert sorted(granted) == sorted(shared)  # every name once, to one owner
    stored = await owners(leases, shared)
    assert stored == {name: o for o, held in zip(contenders, results, strict=True) for name in held}


async def test_bad_input_is_refused(leases: Leases) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await leases.acquire(names(1), "a", 0)
    with pytest.raises(ValueError, match="lease name"):
        await leases.acquire(["x" * (NAME_LENGTH + 1)], "a", LONG)
    with pytest.raises(ValueError, match="limit"):
        await leases.acquire_free(names(1), "a", LONG, limit=-1)
    (name,) = names(1)
    assert (await leases.acquire([name, name], "a", LONG)).names == {name}
    assert not await leases.acquire([], "a", LONG)
    assert await leases.release([], "a") == set()


def test_owner_ids_are_unique_and_readable() -> None:
    first, second = new_owner("poller"), new_owner("poller")
    assert first != second
    assert first.startswith("poller:")
    assert f":{os.getpid()}:" in first


# -- two OS processes on PostgreSQL ---------------------------------------------------

WORKER = Path(__file__).with_name("lease_worker.py")
TTL = 1.0
HANDOVERS = 3


@dataclass
class Grant:
    owner: str
    kind: str
    t0: float
    t1: float
    deadline: float
    granted_at: datetime
    expires_at: datetime


class Process:
    """A running lease_worker.py and the grants it reported."""

    def __init__(self, proc: asyncio.subprocess.Process, owner: str) -> None:
        self.proc = proc
        self.owner = owner
        self.grants: list[Grant] = []
        self.ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            report: dict[str, Any] = json.loads(line)
            if "ready" in report:
                self.ready.set()
                continue
            for key in ("granted_at", "expires_at"):
                report[key] = datetime.fromisoformat(report[key])
            self.grants.append(Grant(**report))

    def acquired(self) -> list[Grant]:
        return [g for g in self.grants if g.kind == "acquire"]

    async def finish(self) -> str:
        """Wait for the process to end; its stderr."""
        assert self.proc.stderr is not None
        err = await asyncio.wait_for(self.proc.stderr.read(), 60)
        await asyncio.wait_for(self.proc.wait(), 60)
        await self._reader
        return err.decode()


def belief_intervals(grants: list[Grant]) -> list[tuple[float, float]]:
    """When the process believed it held the lease: from the return of a grant to the
    deadline of the last grant that renewed it before that deadline."""
    intervals: list[tuple[float, float]] = []
    for grant in sorted(grants, key=lambda g: g.t1):
        if intervals and grant.kind == "renew" and grant.t1 <= intervals[-1][1]:
            start, end = intervals[-1]
            intervals[-1] = (start, max(end, grant.deadline))
        else:
            intervals.append((grant.t1, grant.deadline))
    return intervals


def overlapping(
    first: Iterable[tuple[Any, Any]], second: Iterable[tuple[Any, Any]]
) -> list[tuple[Any, Any]]:
    second = list(second)
    return [(a, b) for a in first for b in second if a[0] < b[1] and b[0] < a[1]]


@pytest.fixture
async def migrated_postgres(postgres_url: str) -> str:
    await upgrade_database(postgres_url)
    return postgres_url


async def _eventually(check: Any, what: str, within: float) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        await asyncio.sleep(0.01)


@pytest.mark.postgres
@pytest.mark.slow
async def test_two_processes_one_holder_then_takeover_after_sigkill(
    migrated_postgres: str,
) -> None:
    name = f"test-lease:{uuid.uuid4()}"
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    processes: list[Process] = []
    for n in range(2):
        owner = f"worker-{n}"
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            migrated_postgres,
            name,
            owner,
            str(TTL),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        processes.append(Process(proc, owner))
    db = Database(migrated_postgres)
    leases = Leases(db)
    try:
        for process in processes:
            await asyncio.wait_for(process.ready.wait(), 60)

        # Phase 1: they hand the lease back and forth (each lets it expire in turn).
        def handovers() -> int:
            acquisitions = sorted((g for p in processes for g in p.acquired()), key=lambda g: g.t1)
            return sum(1 for a, b in itertools.pairwise(acquisitions) if a.owner != b.owner)

        await _eventually(lambda: handovers() >= HANDOVERS, "handovers", 120)

        # Phase 2: no more handovers; kill the holder the database names, with SIGKILL.
        for process in processes:
            process.proc.send_signal(signal.SIGUSR1)
        state = (await leases.holders([name]))[name]
        victim = next(p for p in processes if p.owner == state.owner)
        survivor = next(p for p in processes if p is not victim)
        victim.proc.kill()
        killed_at = time.monotonic()
        await victim.finish()
        assert victim.proc.returncode == -signal.SIGKILL

        def taken_over() -> bool:
            return any(g.t1 > killed_at for g in survivor.acquired())

        # A liveness limit only: the figure itself is printed below.
        await _eventually(taken_over, "takeover after SIGKILL", TTL + 5)
        takeover = next(g for g in survivor.acquired() if g.t1 > killed_at)
        assert (await leases.holders([name]))[name].owner == survivor.owner
        print(
            f"\nlease takeover after SIGKILL: {takeover.t1 - killed_at:.3f} s "
            f"(TTL {TTL} s; {handovers()} handovers before)"
        )

        survivor.proc.send_signal(signal.SIGTERM)
        err = await survivor.finish()
        assert survivor.proc.returncode == 0, err
        assert await leases.holders([name]) == {}  # released on the graceful stop
    finally:
        for process in processes:
            if process.proc.returncode is None:
                process.proc.kill()
                await process.finish()
        await db.dispose()

    one, two = processes
    # What the processes believed (one monotonic clock on this machine): never both.
    assert overlapping(belief_intervals(one.grants), belief_intervals(two.grants)) == []
    # What the database granted, by its own clock: never to both at once.
    granted = [[(g.granted_at, g.expires_at) for g in p.grants] for p in processes]
    assert overlapping(granted[0], granted[1]) == []
    # The survivor took the lease only once the victim's last grant had expired.
    assert takeover.granted_at >= max(g.expires_at for g in victim.grants)
