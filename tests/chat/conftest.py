"""Chat door fixtures: TuneDeck on each backend against the simulator (the player's
fixtures), accounts connected to its users, chat tokens made as an admin makes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.kit import storage
from tests.player import conftest as player
from tests.player.conftest import Streamer
from tests.support.accounts import acting_for
from tests.support.app import asgi_client
from tests.support.requests import forget_all_requests
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.chat import tokens
from tunedeck.chat.schemas import ChatTokenCreated
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.requests.models import SongRequest

database_url = player.database_url
database = player.database
keyring = player.keyring
make_caller = player.make_caller
sim_server = player.sim_server
sim = player.sim
bus_url = player.bus_url
make_streamer = player.make_streamer
streamer = player.streamer

PUBLIC_URL = "http://127.0.0.1:8000"
NIGHTBOT_AGENT = "Nightbot-URL-Fetcher/0.0.3"


@pytest.fixture
def settings(database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path) -> Settings:
    # A long state cache: "no Spotify call when it is fresh" is then what a test sees.
    return player.player_settings(
        database_url,
        bus_url,
        sim,
        tmp_path,
        public_url=PUBLIC_URL,
        player_state_cache_seconds=30.0,
        # Failed sign-ins are counted per address in Redis: each test its own namespace.
        redis_namespace=storage.unique("chat"),
        auth_failure_burst=5,
        auth_failures_per_second=0.01,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, timeout=30) as client:
        yield client


MakeToken = Callable[..., Awaitable[ChatTokenCreated]]


@pytest.fixture
def make_token(database: Database) -> MakeToken:
    async def make(
        owner: Streamer, *, trust_roles: bool = True, label: str = "bot"
    ) -> ChatTokenCreated:
        ctx = await acting_for(database, owner.account_id)
        return await tokens.create_chat_token(
            ctx, label, trust_roles=trust_roles, public_url=PUBLIC_URL
        )

    return make


@dataclass(frozen=True)
class Answer:
    """What a bot got back."""

    status: int
    content_type: str
    text: str


def answer_of(response: httpx.Response) -> Answer:
    return Answer(response.status_code, response.headers.get("content-type", ""), response.text)


def assert_chat_line(answer: Answer) -> None:
    """Every chat answer: 200, plain UTF-8 text, one line of at most 400 UTF-16 units."""
    assert answer.status == 200, answer
    assert answer.content_type == "text/plain; charset=utf-8", answer
    units = len(answer.text.encode("utf-16-le")) // 2
    assert 0 < units <= 400, answer
    assert "\n" not in answer.text
    assert "\r" not in answer.text


def nightbot_headers(
    name: str = "viewer1", *, level: str = "everyone", user_id: str = "1001"
) -> dict[str, str]:
    """The headers Nightbot's $(urlfetch) sends for a Twitch viewer."""
    user = httpx.QueryParams(
        {
            "name": name,
            "displayName": name.capitalize(),
            "provider": "twitch",
            "providerId": user_id,
            "userLevel": level,
        }
    )
    channel = httpx.QueryParams(
        {"name": "streamer", "displayName": "Streamer", "provider": "twitch", "providerId": "42"}
    )
    return {
        "Nightbot-User": str(user),
        "Nightbot-Channel": str(channel),
        "Nightbot-Response-Url": "https://api.nightbot.tv/1/channel/send/abc",
        "User-Agent": NIGHTBOT_AGENT,
    }


def fossabot_headers(login: str = "viewer2", *, level: str | None = None) -> dict[str, str]:
    """The headers Fossabot's $(customapi) sends for a message."""
    headers = {
        "x-fossabot-channelid": "fb-1",
        "x-fossabot-channellogin": "streamer",
        "x-fossabot-channelprovider": "twitch",
        "x-fossabot-channelproviderid": "42",
        "x-fossabot-hasmessage": "true",
        "x-fossabot-message-userlogin": login,
        "x-fossabot-message-userdisplayname": login.upper(),
        "x-fossabot-message-userprovider": "twitch",
        "x-fossabot-message-userproviderid": "2002",
        "User-Agent": "Fossabot Web Proxy",
    }
    if level is not None:
        headers["x-fossabot-message-userlevel"] = level
    return headers


async def stored_requests(database: Database, account_id: uuid.UUID) -> int:
    """The requests stored for one account (the test database is shared by the run)."""
    query = (
        select(func.count()).select_from(SongRequest).where(SongRequest.account_id == account_id)
    )
    async with database.session() as session:
        return int(await session.scalar(query) or 0)


def spotify_calls(sim: Sim, *fragments: str) -> list[str]:
    """The simulator's Web API requests whose path holds one of ``fragments``."""
    return [
        r["path"] for r in sim.requests() if any(fragment in r["path"] for fragment in fragments)
    ]


@pytest.fixture(autouse=True)
async def no_request_left(database: Database) -> AsyncIterator[None]:
    """A waiting request keeps its account polled (and counted): none outlives its test."""
    yield
    await forget_all_requests(database)
