"""Secrets at rest: a dump of each database, taken after connecting accounts with known
tokens, holds none of them (nor the client id and secret, nor the PKCE verifier) in plain
text, hex, or base64 (standard or URL-safe, at any alignment)."""

from __future__ import annotations

import asyncio
import base64
import glob
import shutil
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.accounts.conftest import MakeCaller
from tests.connections.conftest import ADMIN, APP_ID, APP_SECRET, Connect, Served
from tests.kit import storage
from tests.support.simulator import Sim
from tunedeck.connections import repository as repo
from tunedeck.connections.models import OAuthState
from tunedeck.connections.token_manager import TokenManager
from tunedeck.kit.db import Database

BASE = "/v1/connections/spotify"


def encodings(secret: str) -> set[bytes]:
    """Byte strings that would betray ``secret`` in a dump.

    Base64 of a value embedded in a longer one depends on where it starts modulo 3, so
    for each alignment take the characters that depend on the secret's bytes alone.
    """
    raw = secret.encode()
    found = {raw, raw.hex().encode()}
    for pad in range(3):
        first = -(-(8 * pad) // 6)  # first character made only of the secret's bits
        last = (8 * (pad + len(raw))) // 6  # one past the last such character
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            found.add(encode(b"\0" * pad + raw)[first:last])
    return found


def test_encodings_catch_embedded_base64() -> None:
    secret = "tok-" + "x1Y2z3" * 4
    for prefix in (b"", b"a", b"ab", b"abc"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            blob = encode(prefix + secret.encode() + b"tail")
            assert any(e in blob for e in encodings(secret)), prefix
    assert not any(e in base64.b64encode(b"unrelated" * 10) for e in encodings(secret))


async def dump(database_url: str) -> bytes:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        # The write-ahead log holds recent writes: read it with the main file.
        files = sorted(glob.glob(url.database + "*"))
        return b"".join([await asyncio.to_thread(Path(p).read_bytes) for p in files])
    pg_dump = shutil.which("pg_dump") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1]
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        pg_dump, "--no-owner", plain, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    assert b"channel_connections" in out  # a real dump of the right database
    return out


async def test_dump_holds_no_secret(
    database_url: str,
    database: Database,
    served: Served,
    sim: Sim,
    make_caller: MakeCaller,
    connect: Connect,
    manager: TokenManager,
) -> None:
    # One account connected through the real flow, one with a rotating (PKCE) grant that
    # has been refreshed, and one pending authorization (its PKCE verifier is stored).
    caller = await make_caller(ADMIN)
    async with served.client(caller, follow_redirects=True) as client:
        await client.put(f"{BASE}/app", json={"client_id": APP_ID, "client_secret": APP_SECRET})
        await client.get(f"{BASE}/authorize")
        assert (await client.get(BASE)).json()["connected"] is True
        pending = await client.get(f"{BASE}/authorize", params={"format": "json"})
    state = httpx.URL(pending.json()["authorize_url"]).params["state"]
    rotated = await connect(expires_in=60, pkce=True)
    await (await manager.client_for(rotated.account_id)).playback()

    async with database.session() as session:
        verifier_row = await session.scalar(select(OAuthState).where(OAuthState.state == state))
        assert verifier_row is not None
        verifier = await repo.pending_authorization(session, storage.TEST_KEYRING, state)
        assert verifier is not None
    tokens = [*sim.state.tokens.access, *sim.state.tokens.refresh]
    assert len(tokens) >= 6  # flow: 2, minted: 2, refreshed: 2
    secrets_ = [APP_ID, APP_SECRET, verifier.code_verifier, *tokens]

    blob = await dump(database_url)
    assert caller.account.name.encode() in blob  # the dump does hold our rows
    leaks = [s[:8] + "…" for s in secrets_ if any(e in blob for e in encodings(s))]
    assert leaks == []
