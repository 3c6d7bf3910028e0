"""The chat door: ``GET /v1/chat/{command}?token=…&q=…``, what a chat bot calls for each
command and prints as it is.

It always answers, in one sentence a viewer understands (``chat.rest`` sends it as
``text/plain``, HTTP 200: a bot prints nothing useful for another status, and a refusal
is an answer). In order:

1. the chat token (missing, unknown, revoked: the link is no longer valid), looked up
   inside the failed sign-in throttle like every credential (an address that failed too
   often is told to wait, unlooked);
2. the command (unknown: the list of commands);
3. the viewer, from the bot's headers or URL variables (``requests.viewers.identify``),
   their role believed only when the token trusts roles; a command about "my" requests
   needs a viewer, a moderator's command a moderator (or the broadcaster);
4. the command itself (``chat.commands``), as a chat principal holding what the command
   needs: ``requests:read`` and ``requests:submit``, and ``requests:moderate`` for a
   moderator. Whatever fails in it becomes a sentence (and a log line), never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import HTTPConnection

from tunedeck.accounts.permissions import Permission, Principal, PrincipalKind
from tunedeck.accounts.throttle import TooManyFailedLogins, authentication_attempt
from tunedeck.chat import commands
from tunedeck.chat.commands import ChatCall
from tunedeck.chat.deps import ChatRuntime, chat_door_of
from tunedeck.chat.snippets import COMMANDS
from tunedeck.chat.tokens import ChatCaller, chat_caller
from tunedeck.kit.errors import Forbidden, TuneDeckError, Unauthorized
from tunedeck.requests.answers import addressed, chat_line
from tunedeck.requests.deps import requests_context
from tunedeck.requests.text import bounded
from tunedeck.requests.viewers import Role, Viewer, identify

logger = logging.getLogger(__name__)

INVALID_LINK = "This chat command's link is no longer valid — ask the streamer for a new one."
THROTTLED = "Too many wrong chat links from here — try again in a minute."
NO_VIEWER = (
    "I can't tell who asked — the bot's command must pass the viewer's name "
    "(see TuneDeck's chat bot setup)."
)
BROKEN = "song requests aren't working right now — try again in a little while"
BROKEN_ALONE = BROKEN[0].upper() + BROKEN[1:] + "."
"""The same, for an answer to nobody in particular."""
MODERATORS: frozenset[Role] = frozenset({Role.MODERATOR, Role.BROADCASTER})
VIEWER_PERMISSIONS = frozenset({Permission.REQUESTS_READ, Permission.REQUESTS_SUBMIT})


def command_list() -> str:
    everyone = ", ".join(f"!{c.name}" for c in COMMANDS if not c.moderators_only)
    moderators = ", ".join(f"!{c.name}" for c in COMMANDS if c.moderators_only)
    return f"Song request commands: {everyone}; for moderators: {moderators}."


def _command_name(raw: str) -> str:
    return bounded(raw, 32).strip().lstrip("!").lower()


def chat_principal(caller: ChatCaller, viewer: Viewer | None) -> Principal:
    """The chat token speaking for ``viewer``: labelled after them (the actor of what
    they change), holding a moderator's permission only for a moderator."""
    granted = set(VIEWER_PERMISSIONS)
    if viewer is not None and viewer.role in MODERATORS:
        granted.add(Permission.REQUESTS_MODERATE)
    who = (viewer.login or viewer.display_name) if viewer is not None else caller.label
    return Principal(
        kind=PrincipalKind.CHAT,
        account_id=caller.account_id,
        account_name=caller.account_name,
        label=bounded(f"chat:{who}", 100),
        permissions=frozenset(granted),
        credential_id=caller.token_id,
    )


async def _caller(conn: HTTPConnection, runtime: ChatRuntime) -> ChatCaller | str:
    """The token's caller, or the sentence that answers instead."""
    try:
        async with authentication_attempt(conn):
            return await chat_caller(runtime.units, conn.query_params.get("token"))
    except Unauthorized:
        return INVALID_LINK
    except TooManyFailedLogins:
        return THROTTLED
    except Exception:  # the database is down: still a sentence, never a 500 or 503
        logger.exception("chat token lookup failed")
        return BROKEN_ALONE


def _not_a_moderator(viewer: Viewer, caller: ChatCaller, name: str) -> str | None:
    if viewer.role in MODERATORS:
        return None
    if not caller.trust_roles and viewer.claimed in MODERATORS:
        return addressed(
            viewer.display_name,
            "this channel's chat link doesn't trust roles, so !"
            f"{name} is off — the streamer can turn role trust on",
        )
    return addressed(viewer.display_name, f"only moderators can use !{name}")


async def _run(call: ChatCall, caller: ChatCaller, name: str) -> str:
    anyone = commands.ANYONE_COMMANDS.get(name)
    if anyone is not None:
        return await anyone(call)
    viewer = call.viewer
    if viewer is None:
        return chat_line(NO_VIEWER)
    moderated = commands.MODERATOR_COMMANDS.get(name)
    if moderated is not None:
        refusal = _not_a_moderator(viewer, caller, name)
        return refusal or await moderated(call, viewer)
    return await commands.VIEWER_COMMANDS[name](call, viewer)


def _failed(viewer: Viewer | None, error: Exception) -> str:
    sentence = "you can't do that on this channel" if isinstance(error, Forbidden) else BROKEN
    if viewer is None:
        return chat_line(sentence[0].upper() + sentence[1:] + ".")
    return addressed(viewer.display_name, sentence)


async def answer(
    conn: HTTPConnection, runtime: ChatRuntime, command: str, query: Mapping[str, str]
) -> str:
    """The line a bot prints for ``command`` called on ``conn`` (module doc)."""
    caller = await _caller(conn, runtime)
    if isinstance(caller, str):
        return caller
    name = _command_name(command)
    if name not in commands.KNOWN:
        return command_list()
    viewer = identify(conn.headers, query, trust_roles=caller.trust_roles)
    call = ChatCall(
        viewer=viewer,
        text=query.get("q", ""),
        ctx=requests_context(conn, chat_principal(caller, viewer)),
        door=chat_door_of(runtime),
        now_playing=runtime.now_playing,
        public_url=runtime.settings.public_url,
    )
    try:
        return await _run(call, caller, name)
    except TuneDeckError as error:
        logger.info("chat !%s refused: %s", name, error)
        return _failed(viewer, error)
    except Exception as error:
        logger.exception("chat !%s failed", name)
        return _failed(viewer, error)
