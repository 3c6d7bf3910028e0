"""The commands a streamer pastes into their chat bot, rendered for one TuneDeck and one
chat token (the dashboard, the setup page and ``POST /v1/chat-tokens/snippets`` show them).

Each bot calls ``GET <base>/v1/chat/<command>?token=…`` and prints the answer:

- **Nightbot** ``$(urlfetch URL)``: the viewer comes in its ``Nightbot-User`` header; the
  text after the command is ``$(querystring)`` (URL-encoded).
- **StreamElements** ``$(customapi URL)``: no headers, so the viewer travels in the URL:
  ``$(user.name)`` (login), ``$(user)`` (display name), ``$(user.level)`` (its numeric
  level: 100 everyone ... 1500 broadcaster); the text is ``$(queryescape ${1:})``.
- **Fossabot** ``$(customapi URL)``: the viewer in its ``x-fossabot-*`` headers; the text
  is ``$(querystring)``. Fossabot does not print customapi URLs on public command pages.
- **Streamlabs Cloudbot** ``{readapi.URL}``: the viewer as ``{user.name}``; the text as
  ``{1:}`` (Cloudbot's arguments from the first on). Cloudbot passes no role: the
  moderator commands say ``role=moderator`` and the streamer sets their user level to
  moderators in Cloudbot (so does Streamer.bot's, through the command's permissions).
- **Streamer.bot**: a command triggering an action whose *Fetch URL* sub-action calls the
  URL with ``%userName%``, ``%user%``, ``%userId%`` and ``%rawInputUrlEncoded%``, then a
  *Send Message to Channel* sub-action printing the fetched variable.

The token is in every line: whoever can read the command's text can call the door.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from tunedeck.chat.schemas import BotCommand, BotSnippets

CHAT_PATH = "/v1/chat"
TOKEN_PLACEHOLDER = "YOUR_CHAT_TOKEN"
"""Put in the commands when no token is given (the token is only shown when created)."""


@dataclass(frozen=True, slots=True)
class ChatCommand:
    """A command of the chat door: its name, whether it takes text, who may run it."""

    name: str
    takes_text: bool
    moderators_only: bool
    summary: str


COMMANDS: tuple[ChatCommand, ...] = (
    ChatCommand("sr", True, False, "request a song: !sr artist - title, or a Spotify link"),
    ChatCommand("song", False, False, "what is playing, and who asked for it"),
    ChatCommand("lastsong", True, False, "the song before this one (!lastsong 3: the last three)"),
    ChatCommand("queue", False, False, "the next requests"),
    ChatCommand("pos", False, False, "where my next request is, and when it plays"),
    ChatCommand("when", False, False, "the same as !pos"),
    ChatCommand("wrongsong", False, False, "take back my last waiting request"),
    ChatCommand("songlist", False, False, "a link to the page of what plays and is coming up"),
    ChatCommand("skip", False, True, "skip the playing song (moderators)"),
    ChatCommand("sropen", False, True, "open requests (moderators)"),
    ChatCommand("srclose", True, True, "close requests, with an optional message (moderators)"),
)
COMMAND_NAMES: frozenset[str] = frozenset(command.name for command in COMMANDS)


@dataclass(frozen=True, slots=True)
class _Bot:
    bot: str
    name: str
    how: str
    wrap: str  # "<url>" is replaced by the URL
    viewer: str  # query parameters naming the viewer ("" when the bot sends headers)
    text: str  # the bot's variable for the text after the command
    # For a bot that reports no role: moderator commands claim it, and the streamer limits
    # who may run them in the bot itself (the claim is believed only with trust_roles).
    claims_moderator: bool = False


_BOTS: tuple[_Bot, ...] = (
    _Bot(
        "nightbot",
        "Nightbot",
        "Commands → Custom → Add Command: the command's name, and this as its message.",
        "$(urlfetch <url>)",
        "",
        "$(querystring)",
    ),
    _Bot(
        "streamelements",
        "StreamElements",
        "Chat bot → Chat commands → Custom commands → Add new command: this as its response.",
        "$(customapi <url>)",
        "&user=$(user.name)&name=$(queryescape $(user))&level=$(user.level)",
        "$(queryescape ${1:})",
    ),
    _Bot(
        "fossabot",
        "Fossabot",
        "Commands → Custom commands → Add command: this as its response.",
        "$(customapi <url>)",
        "",
        "$(querystring)",
    ),
    _Bot(
        "streamlabs",
        "Streamlabs Cloudbot",
        "Cloudbot → Commands → Custom → Add command: this as its response.",
        "{readapi.<url>}",
        "&user={user.name}",
        "{1:}",
        claims_moderator=True,
    ),
    _Bot(
        "streamerbot",
        "Streamer.bot",
        "Commands → Add (e.g. !sr) → its action gets a Core → Network → Fetch URL "
        "sub-action with this URL (Parse as JSON off, variable name 'tunedeck'), then "
        "Twitch → Chat → Send Message to Channel with '%tunedeck%'.",
        "<url>",
        "&user=%userName%&name=%user%&id=%userId%",
        "%rawInputUrlEncoded%",
        claims_moderator=True,
    ),
)


def command_url(base_url: str, command: str, token: str) -> str:
    """The chat door's URL for ``command`` (without the bot's variables)."""
    return f"{base_url.rstrip('/')}{CHAT_PATH}/{command}?token={quote(token, safe='')}"


def _render(bot: _Bot, base_url: str, token: str, command: ChatCommand) -> BotCommand:
    url = command_url(base_url, command.name, token) + bot.viewer
    if command.moderators_only and bot.claims_moderator:
        url += "&role=moderator"
    if command.takes_text:
        url += "&q=" + bot.text
    return BotCommand(
        command=f"!{command.name}",
        moderators_only=command.moderators_only,
        text=bot.wrap.replace("<url>", url),
    )


def render_snippets(base_url: str, token: str | None = None) -> list[BotSnippets]:
    """Every bot's commands for the TuneDeck at ``base_url`` (its public URL) and
    ``token`` (None: :data:`TOKEN_PLACEHOLDER`, to replace by hand)."""
    token = token or TOKEN_PLACEHOLDER
    return [
        BotSnippets(
            bot=bot.bot,
            name=bot.name,
            how=bot.how,
            commands=[_render(bot, base_url, token, command) for command in COMMANDS],
        )
        for bot in _BOTS
    ]
