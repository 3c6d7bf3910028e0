"""The chat commands with the request service behind them, as Nightbot calls them: a
request taken, refused by a rule, pending approval, withdrawn; the queue and a viewer's
place; moderators closing and opening requests; a slow lookup answered at once and told
on the next !pos; one search text, one Spotify search."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.chat.conftest import MakeToken, answer_of, assert_chat_line, nightbot_headers
from tests.player.conftest import Streamer
from tests.requests.queue.support import SEARCH, rules, songs
from tests.support.accounts import acting_for
from tests.support.app import asgi_client
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.chat import commands
from tunedeck.config import Settings
from tunedeck.history.models import Play
from tunedeck.kit.db import Database
from tunedeck.requests import service
from tunedeck.requests.context import RequestsContext
from tunedeck.runtime import Runtime, app_runtime


@dataclass
class Chat:
    """A running app, a chat token of a connected streamer, and a way to call commands."""

    app: FastAPI
    client: httpx.AsyncClient
    token: str
    streamer: Streamer
    sim: Sim
    database: Database

    @property
    def runtime(self) -> Runtime:
        return app_runtime(self.app)

    async def say(self, command: str, text: str | None = None, **viewer: Any) -> str:
        params = {"token": self.token}
        if text is not None:
            params["q"] = text
        response = await self.client.get(
            f"/v1/chat/{command}", params=params, headers=nightbot_headers(**viewer)
        )
        answer = answer_of(response)
        assert_chat_line(answer)
        return answer.text

    async def operator(self) -> RequestsContext:
        ctx = await acting_for(self.database, self.streamer.account_id)
        runtime = self.runtime
        return RequestsContext(
            ctx.principal,
            runtime.units,
            runtime.token_manager,
            runtime.player_state,
            runtime.request_matcher,
        )

    def searches(self) -> int:
        return int(self.sim.stats()["requests"].get(SEARCH, 0))


async def start_chat(
    settings: Settings, streamer: Streamer, make_token: MakeToken, sim: Sim, database: Database
) -> AsyncIterator[Chat]:
    app = create_app(settings)
    created = await make_token(streamer)
    async with app.router.lifespan_context(app), asgi_client(app, timeout=30) as client:
        yield Chat(app, client, created.token, streamer, sim, database)


@pytest.fixture
async def chat(
    settings: Settings, streamer: Streamer, make_token: MakeToken, sim: Sim, database: Database
) -> AsyncIterator[Chat]:
    async for running in start_chat(settings, streamer, make_token, sim, database):
        yield running


@pytest.fixture
async def slow_chat(
    settings: Settings, streamer: Streamer, make_token: MakeToken, sim: Sim, database: Database
) -> AsyncIterator[Chat]:
    """The chat door with a budget far below the simulator's latency."""
    quick = settings.model_copy(update={"chat_answer_budget_seconds": 0.05})
    async for running in start_chat(quick, streamer, make_token, sim, database):
        yield running


def search_text(sim: Sim, index: int = 0) -> str:
    track = [t for t in sim.state.catalog.tracks if not t.explicit and t.markets is None][index]
    return f"{track.artists[0].name} - {track.name}"


async def test_a_request_its_place_the_queue_and_taking_it_back(chat: Chat) -> None:
    first, second = songs(chat.sim, 2)
    added = await chat.say("sr", f"pls {first}")
    assert added.startswith("@Viewer1, added ")
    assert " at #1" in added
    label = added.removeprefix("@Viewer1, added ").split(" at #1")[0]
    # The regular viewer's cooldown: a rule's sentence, nothing stored.
    refused = await chat.say("sr", second)
    assert refused.startswith("@Viewer1, wait ")
    other = await chat.say("sr", second, name="viewer9", user_id="9009")
    assert other.startswith("@Viewer9, added ")
    assert " at #2" in other

    position = await chat.say("pos")
    assert position.startswith(f"@Viewer1, {label} is #1")
    assert await chat.say("when") == position
    queue = await chat.say("queue")
    assert queue.startswith(f"1. {label} (Viewer1) · 2. ")
    assert "(Viewer9)" in queue

    assert await chat.say("wrongsong") == f"@Viewer1, took back {label}"
    assert await chat.say("wrongsong") == f"@Viewer1, {commands.NO_REQUEST_WAITING}"
    assert await chat.say("pos") == f"@Viewer1, {commands.NO_REQUEST_WAITING}"
    assert (await chat.say("queue")).startswith("1. ")
    assert "(Viewer1)" not in await chat.say("queue")


async def test_moderators_close_and_open_requests(chat: Chat) -> None:
    [link] = songs(chat.sim, 1)
    mod = {"name": "modjo", "level": "moderator", "user_id": "77"}
    closed = await chat.say("srclose", "back after this game", **mod)
    assert closed == "Song requests are closed: back after this game"
    assert await chat.say("sr", link) == "@Viewer1, requests are closed: back after this game"
    assert (await chat.say("queue")).endswith("Requests are closed: back after this game")
    assert await chat.say("sropen", **mod) == "Song requests are open — !sr artist - title"
    assert (await chat.say("sr", link)).startswith("@Viewer1, added ")
    assert await chat.say("skip", **mod) == "@Modjo, no request is playing — !skip skips requests"
    # The broadcaster is a moderator too (the channel's own id).
    assert (await chat.say("srclose", name="streamer", user_id="42")) == "Song requests are closed."


async def test_approval_required(chat: Chat) -> None:
    await service.update_settings(await chat.operator(), rules(approval_required=True))
    [link] = songs(chat.sim, 1)
    answer = await chat.say("sr", link)
    assert answer.startswith("@Viewer1, ")
    assert answer.endswith(" is waiting for a moderator's approval")
    assert (await chat.say("pos")).endswith(" is waiting for a moderator's approval")


async def test_one_search_text_one_spotify_search(chat: Chat) -> None:
    text = search_text(chat.sim)
    before = chat.searches()
    answers = [
        await chat.say("sr", text.upper() if n % 2 else text, name=f"fan{n}", user_id=f"{n}")
        for n in range(4)
    ]
    assert answers[0].startswith("@Fan0, added ")
    # The same song from others: a duplicate, refused by the rule, never searched again.
    assert all("already in the queue" in answer for answer in answers[1:])
    assert chat.searches() - before == 1


async def test_a_slow_lookup_answers_at_once_and_tells_on_pos(slow_chat: Chat) -> None:
    chat = slow_chat
    text = search_text(chat.sim, 1)
    chat.sim.knobs(latency_ms=400)
    assert await chat.say("sr", text) == f"@Viewer1, {commands.LOOKING_UP}"
    again = await chat.say("sr", "something else")
    assert again.startswith("@Viewer1, still looking up “")
    pending = await chat.say("pos")
    assert pending.startswith("@Viewer1, still looking up “")
    lookups = chat.runtime.chat
    assert lookups is not None
    await lookups.lookups.settled()
    chat.sim.knobs(latency_ms=0)
    told = await chat.say("pos")
    assert told.startswith("@Viewer1, ")
    assert " is #1" in told
    queue = await chat.say("queue")
    assert queue.startswith("1. ")
    assert "(Viewer1)" in queue


async def test_a_slow_refusal_is_told_on_pos(slow_chat: Chat) -> None:
    chat = slow_chat
    chat.sim.knobs(latency_ms=400)
    answer = await chat.say("sr", "zzqx nothing matches this at all qqq")
    assert answer == f"@Viewer1, {commands.LOOKING_UP}"
    runtime_chat = chat.runtime.chat
    assert runtime_chat is not None
    await runtime_chat.lookups.settled()
    chat.sim.knobs(latency_ms=0)
    assert await chat.say("pos") == "@Viewer1, couldn't find that song"
    # Told once: then where their requests stand.
    assert await chat.say("pos") == f"@Viewer1, {commands.NO_REQUEST_WAITING}"


async def test_last_song_before_anything_was_seen(chat: Chat) -> None:
    assert await chat.say("lastsong") == "I haven't seen a song before this one yet."


async def test_song_list_links_the_public_page_only_when_it_is_on(chat: Chat) -> None:
    assert await chat.say("songlist") == "This channel's song list isn't public."
    headers = chat.streamer.headers
    turned_on = await chat.client.post("/v1/queue-page", headers=headers)
    assert turned_on.status_code == 200, turned_on.text
    url = turned_on.json()["url"]
    assert await chat.say("songlist") == f"Songs playing and coming up: {url}"
    assert (await chat.client.delete("/v1/queue-page", headers=headers)).status_code == 200
    assert await chat.say("songlist") == "This channel's song list isn't public."


@pytest.fixture
async def patient_chat(
    settings: Settings, streamer: Streamer, make_token: MakeToken, sim: Sim, database: Database
) -> AsyncIterator[Chat]:
    """The chat door with a budget far above the simulator's latency."""
    patient = settings.model_copy(update={"chat_answer_budget_seconds": 10.0})
    async for running in start_chat(patient, streamer, make_token, sim, database):
        yield running


async def test_a_raid_is_answered_at_once_when_the_channel_is_backed_up(
    patient_chat: Chat,
) -> None:
    chat = patient_chat
    links = songs(chat.sim, 24)
    chat.sim.knobs(latency_ms=300)
    answers = await asyncio.gather(
        *(
            chat.say("sr", link, name=f"raider{n}", user_id=f"{5000 + n}")
            for n, link in enumerate(links)
        )
    )
    chat.sim.knobs(latency_ms=0)
    added = [a for a in answers if " added " in a]
    later = [a for a in answers if a.endswith(commands.LOOKING_UP)]
    # The first ones fit the (long) budget; those behind a full gate were told at once.
    assert added
    assert later
    assert len(added) + len(later) == len(links)
    door = chat.runtime.chat
    assert door is not None
    await door.lookups.settled()
    queue = await chat.say("queue")
    assert queue.startswith("1. ")
    assert f"+{len(links) - 5} more" in queue


async def test_last_songs_come_from_the_play_history(chat: Chat) -> None:
    """``!lastsong`` names the play before the one playing, with its requester;
    ``!lastsong 3`` the three before it."""
    start = datetime.now(UTC) - timedelta(minutes=10)
    async with chat.database.session() as session:
        for index, (name, by) in enumerate(
            [("First", None), ("Second", "Zoë"), ("Third", None), ("Fourth", None)]
        ):
            at = start + timedelta(minutes=index)
            session.add(
                Play(
                    id=uuid.uuid4(),
                    started_at=at,
                    account_id=chat.streamer.account_id,
                    item_uri=f"spotify:track:{index}",
                    item_type="track",
                    name=name,
                    artists=["Band"],
                    artist="Band",
                    album=None,
                    duration_ms=60_000,
                    art_url=None,
                    # The last one plays still.
                    ended_at=None if index == 3 else at + timedelta(minutes=1),
                    listened_ms=60_000,
                    end_reason=None if index == 3 else "natural",
                    source="request" if by else "context",
                    requested_by=by,
                )
            )
        await session.commit()
    assert await chat.say("lastsong") == "Last song: Third — Band"
    assert await chat.say("lastsong", "3") == (
        "Last 3 songs: Third — Band · Second — Band (requested by Zoë) · First — Band"
    )
    assert await chat.say("lastsong", "many") == "Last song: Third — Band"
