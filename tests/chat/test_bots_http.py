"""The chat door over real HTTP, called the way each bot calls it: Nightbot's and
Fossabot's headers, the URLs StreamElements, Streamlabs and Streamer.bot make of their
commands once the variables are filled in. And the token never reaches a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote_plus

import httpx
import pytest

from tests.chat.conftest import (
    MakeToken,
    answer_of,
    assert_chat_line,
    fossabot_headers,
    nightbot_headers,
)
from tests.player.conftest import Streamer
from tests.support.servers import serve_in_thread
from tunedeck.app import create_app
from tunedeck.chat import door
from tunedeck.chat.snippets import render_snippets
from tunedeck.config import Settings
from tunedeck.kit.logs import make_handler

ALBUM = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy?si=x"
ALBUM_SENTENCE = "that's an album link — send a track"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line of the process, as ``configure_logging`` writes them (JSON)."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def served(settings: Settings, log_lines: io.StringIO) -> AsyncIterator[str]:
    app = create_app(settings.model_copy(update={"access_log": True}))
    with serve_in_thread(app) as base:
        yield base


async def get(base: str, url_or_path: str, headers: dict[str, str] | None = None) -> str:
    url = url_or_path if url_or_path.startswith("http") else base + url_or_path
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(url, headers=headers or {})
    answer = answer_of(response)
    assert_chat_line(answer)
    return answer.text


def snippet(base: str, token: str, bot: str, command: str) -> str:
    for rendered in render_snippets(base, token):
        if rendered.bot == bot:
            return next(c.text for c in rendered.commands if c.command == command)
    raise AssertionError(bot)


async def test_each_bot_as_it_calls(
    served: str, streamer: Streamer, make_token: MakeToken, log_lines: io.StringIO
) -> None:
    created = await make_token(streamer)
    token = created.token
    path = f"/v1/chat/sr?token={token}&q={quote_plus(ALBUM)}"

    # Nightbot: $(urlfetch …) with its Nightbot-User header.
    assert await get(served, path, nightbot_headers()) == f"@Viewer1, {ALBUM_SENTENCE}"
    # Fossabot: $(customapi …) with its x-fossabot-* headers.
    assert await get(served, path, fossabot_headers()) == f"@VIEWER2, {ALBUM_SENTENCE}"

    # StreamElements: the URL of its $(customapi …), variables filled in.
    se = snippet(served, token, "streamelements", "!sr").removeprefix("$(customapi ")[:-1]
    se = (
        se.replace("$(user.name)", "se_viewer")
        .replace("$(queryescape $(user))", quote_plus("SE Viewer"))
        .replace("$(user.level)", "100")
        .replace("$(queryescape ${1:})", quote_plus(ALBUM))
    )
    assert await get(served, se) == f"@SE Viewer, {ALBUM_SENTENCE}"

    # Streamlabs Cloudbot: {readapi.…}.
    cloud = snippet(served, token, "streamlabs", "!sr").removeprefix("{readapi.")[:-1]
    cloud = cloud.replace("{user.name}", "cloudviewer").replace("{1:}", quote_plus(ALBUM))
    assert await get(served, cloud) == f"@cloudviewer, {ALBUM_SENTENCE}"

    # Streamer.bot: the Fetch URL sub-action's URL.
    sb = snippet(served, token, "streamerbot", "!sr")
    sb = (
        sb.replace("%userName%", "sbviewer")
        .replace("%user%", "SbViewer")
        .replace("%userId%", "9")
        .replace("%rawInputUrlEncoded%", quote_plus(ALBUM))
    )
    assert await get(served, sb) == f"@SbViewer, {ALBUM_SENTENCE}"

    # A moderator command from a viewer, and an unknown command.
    skip = f"/v1/chat/skip?token={token}"
    assert await get(served, skip, nightbot_headers()) == "@Viewer1, only moderators can use !skip"
    assert await get(served, f"/v1/chat/help?token={token}") == door.command_list()

    # Revoked: still 200 and a sentence.
    async with httpx.AsyncClient(timeout=30) as http:
        gone = await http.delete(f"{served}/v1/chat-tokens/{created.id}", headers=streamer.headers)
    assert gone.status_code == 204
    assert await get(served, path, nightbot_headers()) == door.INVALID_LINK

    # The token was in every URL above; it is in no log line, access log included.
    logged = log_lines.getvalue()
    assert '"route": "/v1/chat/{command}"' in logged
    assert token not in logged
    assert token.removeprefix("tdc_") not in logged


async def test_a_token_elsewhere_in_the_url_is_not_logged(
    served: str, streamer: Streamer, make_token: MakeToken, log_lines: io.StringIO
) -> None:
    token = (await make_token(streamer)).token
    async with httpx.AsyncClient(timeout=30) as http:
        # A bot set up wrongly: the token in the path, or pasted into the text.
        await http.get(f"{served}/v1/chat/sr/{token}")
        await http.get(f"{served}/v1/chat/sr", params={"q": token, "user": "x"})
        await http.get(f"{served}/v1/chat/sr?TOKEN={token}")
    logged = log_lines.getvalue()
    assert "/v1/chat/sr" in logged
    assert token.removeprefix("tdc_") not in logged
