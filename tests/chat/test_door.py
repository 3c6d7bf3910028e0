"""The chat door as a bot calls it: always 200 and one plain-text sentence, whatever the
token, the command, the viewer or the text; hostile text refused for free (no Spotify
call, nothing stored); roles believed only as far as the token says."""

from __future__ import annotations

import httpx
import pytest

from tests.chat.conftest import (
    MakeToken,
    answer_of,
    assert_chat_line,
    fossabot_headers,
    nightbot_headers,
    spotify_calls,
    stored_requests,
)
from tests.player.conftest import MakeStreamer, Streamer
from tests.support.simulator import Sim
from tunedeck.chat import door
from tunedeck.kit.db import Database
from tunedeck.requests.reasons import SENTENCES, Reason


async def chat(
    client: httpx.AsyncClient,
    command: str,
    token: str | None,
    *,
    headers: dict[str, str] | None = None,
    **params: str,
) -> str:
    query = dict(params)
    if token is not None:
        query["token"] = token
    response = await client.get(f"/v1/chat/{command}", params=query, headers=headers or {})
    answer = answer_of(response)
    assert_chat_line(answer)
    return answer.text


async def test_missing_unknown_or_revoked_token(
    client: httpx.AsyncClient, streamer: Streamer, make_token: MakeToken
) -> None:
    created = await make_token(streamer)
    assert await chat(client, "song", None) == door.INVALID_LINK
    assert await chat(client, "song", "") == door.INVALID_LINK
    assert await chat(client, "sr", "tdc_not-a-real-token", q="x") == door.INVALID_LINK
    assert await chat(client, "song", "tdk_an-api-key-is-not-one") == door.INVALID_LINK
    revoked = await client.delete(f"/v1/chat-tokens/{created.id}", headers=streamer.headers)
    assert revoked.status_code == 204
    assert await chat(client, "queue", created.token) == door.INVALID_LINK


async def test_wrong_tokens_are_throttled_and_still_answered(
    client: httpx.AsyncClient, streamer: Streamer, make_token: MakeToken
) -> None:
    created = await make_token(streamer)
    answers = [await chat(client, "song", f"tdc_wrong{n}") for n in range(8)]
    # The settings allow 5 failures: then the address is told to wait, unlooked.
    assert answers[:5] == [door.INVALID_LINK] * 5
    assert answers[5:] == [door.THROTTLED] * 3
    # A good token from that address waits too: nothing is looked at while throttled.
    assert await chat(client, "song", created.token) == door.THROTTLED


@pytest.mark.parametrize("command", ["nope", "SR2", "!" * 50, "x" * 5000, "%00", "‮rs"])
async def test_unknown_command_lists_the_commands(
    client: httpx.AsyncClient, streamer: Streamer, make_token: MakeToken, command: str
) -> None:
    created = await make_token(streamer)
    text = await chat(client, command, created.token, headers=nightbot_headers())
    assert text == door.command_list()
    assert "!sr" in text
    assert "!srclose" in text


@pytest.mark.parametrize("command", ["SR", "!sr", "Sr"])
async def test_command_names_are_forgiving(
    client: httpx.AsyncClient, streamer: Streamer, make_token: MakeToken, command: str
) -> None:
    created = await make_token(streamer)
    text = await chat(client, command, created.token, headers=nightbot_headers(), q="")
    assert text == f"@Viewer1, {SENTENCES[Reason.EMPTY]}"


HOSTILE = {
    "empty": ("", Reason.EMPTY),
    "blank": ("   \t ", Reason.EMPTY),
    "only_nul": ("\x00\x00", Reason.EMPTY),
    "huge": ("a" * 10_000, Reason.TOO_LONG),
    "other_site": ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", Reason.OTHER_SITE),
    "album_uri": ("spotify:album:4aawyAB9vmqN3uQ7FjRGTy", Reason.ALBUM_LINK),
    "playlist_link": (
        "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M?si=abc",
        Reason.PLAYLIST_LINK,
    ),
    "short_link": ("https://spotify.link/abcdef", Reason.SHORT_LINK),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_requests_cost_nothing(
    client: httpx.AsyncClient,
    streamer: Streamer,
    make_token: MakeToken,
    sim: Sim,
    database: Database,
    case: str,
) -> None:
    created = await make_token(streamer)
    text, reason = HOSTILE[case]
    sim.reset()
    answer = await chat(client, "sr", created.token, headers=nightbot_headers(), q=text)
    assert answer.startswith("@Viewer1, ")
    assert answer.removeprefix("@Viewer1, ").split(" (")[0] in SENTENCES[reason] or (
        reason is Reason.TOO_LONG and "too long" in answer
    )
    assert spotify_calls(sim, "/search", "/tracks") == []
    assert await stored_requests(database) == 0


async def test_hostile_viewer_names_are_made_inert(
    client: httpx.AsyncClient, streamer: Streamer, make_token: MakeToken
) -> None:
    created = await make_token(streamer)
    name = "\u202eevil\x00<b>" + "x" * 500
    answer = await chat(client, "sr", created.token, user="someone", name=name, q="spotify:album:1")
    assert "\u202e" not in answer
    assert "\x00" not in answer
    assert answer.startswith("@evil <b>xxx")
    assert "…, that's an album link" in answer


async def test_a_request_needs_a_viewer(
    client: httpx.AsyncClient, streamer: Streamer, make_token: MakeToken
) -> None:
    created = await make_token(streamer)
    for command in ("sr", "pos", "when", "wrongsong", "skip"):
        assert await chat(client, command, created.token, q="song") == door.NO_VIEWER
    # Variables a bot left unreplaced name nobody either.
    unreplaced = await chat(
        client, "sr", created.token, q="a", user="${user}", name="$(user)", id="%userId%"
    )
    assert unreplaced == door.NO_VIEWER


@pytest.mark.parametrize("command", ["skip", "sropen", "srclose"])
async def test_moderator_commands_need_a_moderator(
    client: httpx.AsyncClient,
    make_streamer: MakeStreamer,
    make_token: MakeToken,
    sim: Sim,
    command: str,
) -> None:
    streamer = await make_streamer()
    trusting = await make_token(streamer, trust_roles=True)
    wary = await make_token(streamer, trust_roles=False)
    sim.reset()
    viewer = nightbot_headers(level="everyone")
    assert await chat(client, command, trusting.token, headers=viewer) == (
        f"@Viewer1, only moderators can use !{command}"
    )
    # Forged (or real) moderator headers on a token that trusts no role: refused.
    forged = nightbot_headers(level="moderator")
    answer = await chat(client, command, wary.token, headers=forged)
    assert answer.startswith("@Viewer1, this channel's chat link doesn't trust roles")
    fossabot = fossabot_headers(level="moderator")
    answer = await chat(client, command, wary.token, headers=fossabot)
    assert "doesn't trust roles" in answer
    claimed = await chat(client, command, wary.token, user="mallory", role="broadcaster", mod="1")
    assert "doesn't trust roles" in claimed
    # The channel's own id is the broadcaster only when roles are trusted.
    owner = nightbot_headers("streamer", user_id="42")
    assert "doesn't trust roles" in await chat(client, command, wary.token, headers=owner)
    assert spotify_calls(sim, "/me/player") == []


async def test_song_without_extra_spotify_call_when_fresh(
    client: httpx.AsyncClient, streamer: Streamer, make_token: MakeToken, sim: Sim
) -> None:
    created = await make_token(streamer)
    track_id = sim.playback()["track_uri"].rsplit(":", 1)[1]
    with sim.api() as api:
        title = api.get(f"/tracks/{track_id}").json()["name"]
    first = await chat(client, "song", created.token, headers=nightbot_headers())
    assert first.startswith(f"Now playing: {title}")
    reads = len(spotify_calls(sim, "/me/player"))
    assert reads >= 1
    for _ in range(5):
        assert await chat(client, "song", created.token) == first
    assert len(spotify_calls(sim, "/me/player")) == reads


async def test_song_when_nothing_plays_and_when_spotify_is_not_connected(
    client: httpx.AsyncClient, make_streamer: MakeStreamer, make_token: MakeToken
) -> None:
    unconnected = await make_streamer(connected=False)
    created = await make_token(unconnected)
    answer = await chat(client, "song", created.token, headers=nightbot_headers())
    assert answer == f"@Viewer1, {door.BROKEN}"
    assert (
        await chat(client, "song", created.token) == door.BROKEN[0].upper() + door.BROKEN[1:] + "."
    )
