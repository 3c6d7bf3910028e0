"""The bot commands: each bot's line, and what the door reads from the URL a bot makes of
it once its variables are replaced."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, urlsplit

from tunedeck.chat.snippets import COMMANDS, TOKEN_PLACEHOLDER, command_url, render_snippets
from tunedeck.requests.viewers import Role, identify

BASE = "https://tunes.example.org/"
TOKEN = "tdc_abc-DEF_123"


def bot(name: str) -> dict[str, str]:
    snippets = next(s for s in render_snippets(BASE, TOKEN) if s.bot == name)
    return {c.command: c.text for c in snippets.commands}


def test_every_bot_has_every_command_with_the_token() -> None:
    snippets = render_snippets(BASE, TOKEN)
    assert [s.name for s in snippets] == [
        "Nightbot",
        "StreamElements",
        "Fossabot",
        "Streamlabs Cloudbot",
        "Streamer.bot",
    ]
    for snippet in snippets:
        assert [c.command for c in snippet.commands] == [f"!{c.name}" for c in COMMANDS]
        for command in snippet.commands:
            assert "https://tunes.example.org/v1/chat/" in command.text
            assert f"token={TOKEN}" in command.text
            assert "//v1" not in command.text
        assert snippet.how


def test_placeholder_without_a_token() -> None:
    for snippet in render_snippets(BASE):
        assert all(TOKEN_PLACEHOLDER in c.text for c in snippet.commands)


def test_exact_lines() -> None:
    url = "https://tunes.example.org/v1/chat"
    assert bot("nightbot")["!sr"] == f"$(urlfetch {url}/sr?token={TOKEN}&q=$(querystring))"
    assert bot("nightbot")["!song"] == f"$(urlfetch {url}/song?token={TOKEN})"
    assert bot("fossabot")["!sr"] == f"$(customapi {url}/sr?token={TOKEN}&q=$(querystring))"
    assert bot("streamelements")["!sr"] == (
        f"$(customapi {url}/sr?token={TOKEN}&user=$(user.name)&name=$(queryescape $(user))"
        "&level=$(user.level)&q=$(queryescape ${1:}))"
    )
    assert bot("streamlabs")["!skip"] == (
        f"{{readapi.{url}/skip?token={TOKEN}&user={{user.name}}&role=moderator}}"
    )
    assert bot("streamerbot")["!sr"] == (
        f"{url}/sr?token={TOKEN}&user=%userName%&name=%user%&id=%userId%&q=%rawInputUrlEncoded%"
    )


def test_a_token_is_escaped_in_the_url() -> None:
    assert (
        command_url(BASE, "sr", "a b&c") == "https://tunes.example.org/v1/chat/sr?token=a%20b%26c"
    )


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def test_streamelements_url_as_the_bot_fills_it() -> None:
    line = bot("streamelements")["!sr"]
    url = line.removeprefix("$(customapi ").removesuffix(")")
    filled = (
        url.replace("$(user.name)", "coolviewer")
        .replace("$(queryescape $(user))", quote_plus("Cool Viewer"))
        .replace("$(user.level)", "500")
        .replace("$(queryescape ${1:})", quote_plus("neon harbor & co"))
    )
    query = query_of(filled)
    assert query["token"] == TOKEN
    assert query["q"] == "neon harbor & co"
    viewer = identify({}, query, trust_roles=True)
    assert viewer is not None
    assert viewer.login == "coolviewer"
    assert viewer.display_name == "Cool Viewer"
    assert viewer.role is Role.MODERATOR
    assert identify({}, query, trust_roles=False).role is Role.REGULAR  # type: ignore[union-attr]


def test_streamerbot_and_cloudbot_urls_as_filled() -> None:
    filled = (
        bot("streamerbot")["!sr"]
        .replace("%userName%", "lowname")
        .replace("%user%", "LowName")
        .replace("%userId%", "777")
        .replace("%rawInputUrlEncoded%", quote_plus("song two"))
    )
    viewer = identify({}, query_of(filled), trust_roles=True)
    assert viewer is not None
    assert (viewer.login, viewer.display_name, viewer.id) == ("lowname", "LowName", "777")
    assert query_of(filled)["q"] == "song two"
    cloud = bot("streamlabs")["!skip"].removeprefix("{readapi.").removesuffix("}")
    skipper = identify({}, query_of(cloud.replace("{user.name}", "amod")), trust_roles=True)
    assert skipper is not None
    assert skipper.role is Role.MODERATOR
    assert identify({}, query_of(cloud), trust_roles=True) is None  # left unreplaced: nobody
