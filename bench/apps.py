"""TuneDeck's app called in this process, set up as ``tunedeck serve`` runs it, for the
benchmarks that time requests through it.

``serve`` freezes start-up's objects out of the garbage collector once the app is built
(``realtime.serving.freeze_startup_objects``); an app built here without it would pay,
in every full collection during a measurement, for walking modules, schemas and
mappers that ``serve`` never walks.

Each benchmark sets the rate limits its own calls need (``limits_for``): a bench sends
more calls with one key than a client should, and a 429 is not what it measures.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tunedeck.config import Settings
from tunedeck.connections import repository as connections
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database, utcnow
from tunedeck.realtime.serving import freeze_startup_objects
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


def limits_for(settings: Settings, calls: int) -> Settings:
    """``settings`` with the rate limits still on, but admitting ``calls`` calls of each
    kind from one key (and its account) at once and as many per second: the checks run
    as they do in production, and none refuses a call of the bench."""
    return settings.model_copy(
        update={
            "rate_limits": True,
            "rate_limit_key_commands_per_second": float(calls),
            "rate_limit_key_command_burst": calls,
            "rate_limit_account_commands_per_second": float(calls),
            "rate_limit_account_command_burst": calls,
            "rate_limit_key_reads_per_second": float(calls),
            "rate_limit_key_read_burst": calls,
            "rate_limit_account_reads_per_second": float(calls),
            "rate_limit_account_read_burst": calls,
        }
    )


@asynccontextmanager
async def served(
    app: FastAPI, base_url: str = "http://127.0.0.1:8000"
) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` (just built) with start-up frozen as ``serve`` does, then started (its
    lifespan), and a client calling it through its ASGI interface (as the default public
    URL: a host the app answers as)."""
    freeze_startup_objects()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            yield client


async def store_demo_connection(
    db: Database, keyring: Keyring, account_id: uuid.UUID, minted: dict[str, Any]
) -> None:
    """Connect ``account_id`` to the simulator's demo user with tokens ``minted`` by its
    ``/_sim/tokens`` (the demo app's credentials stored as an account's are)."""
    async with db.session() as session:
        await connections.save_app_credentials(
            session, keyring, account_id, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        )
        await connections.save_connection(
            session,
            keyring,
            account_id,
            access_token=minted["access_token"],
            refresh_token=minted["refresh_token"],
            expires_at=utcnow() + timedelta(hours=1),
            scopes=minted["scope"],
            spotify_user_id="demo",
        )
