"""Who is asking, from what a chat bot sends along with a command (pure).

- **Nightbot** (``$(urlfetch …)``): the ``Nightbot-User`` header, URL-encoded
  ``name=…&displayName=…&provider=twitch&providerId=…&userLevel=moderator`` (userLevel
  ``owner``, ``moderator``, ``twitch_vip``, ``regular``, ``subscriber``, ``everyone``,
  ``admin``), and ``Nightbot-Channel`` (the channel's ``providerId``).
- **Fossabot** (``$(customapi …)``): ``x-fossabot-message-userlogin``,
  ``-userdisplayname``, ``-userprovider``, ``-userproviderid``, and
  ``x-fossabot-channelproviderid``. Fossabot's documented headers carry no role: the
  sender of the channel's own id is the broadcaster; ``x-fossabot-message-userlevel`` (or
  the older ``x-fossabot-senderlevel``) is read when present, else a ``role`` query
  parameter, else the viewer is a regular one.
- **Query parameters** (StreamElements ``$(customapi …?user=${user.name}&…)``,
  Streamlabs Cloudbot ``{readapi …?user=$userid&name=$username}``, Streamer.bot
  ``%user%``...): ``user`` / ``login`` (the handle), ``name`` / ``display`` (the display
  name), ``id``, ``platform``, ``role`` / ``level`` (a name, or StreamElements' number),
  and the flags ``broadcaster``, ``mod``, ``vip``, ``sub`` (``1``, ``true``, ``yes``).
  A variable the bot left unreplaced (``${user}``, ``$(user)``, ``$userid``, ``%user%``,
  ``{user}``) counts as absent.

Roles claimed this way are believed only when the chat token says so (``trust_roles``):
anyone holding the token's URL can claim anything. Without it everyone is ``regular``.
Every value is untrusted text, cleaned and bounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl

from tunedeck.requests.text import bounded, clean, utf16_length


class Role(StrEnum):
    """TuneDeck's roles, most trusted first."""

    BROADCASTER = "broadcaster"
    MODERATOR = "moderator"
    VIP = "vip"
    SUBSCRIBER = "subscriber"
    REGULAR = "regular"


#: Lowest first: when a bot's answer is ambiguous, the least trusted role wins.
_RANK = {role: rank for rank, role in enumerate(reversed(Role))}

MAX_NAME = 64
"""The longest display name, login or id kept (in UTF-16 units)."""

#: Nightbot's userLevel: its "regular" is a list of trusted viewers the streamer keeps,
#: ranked between subscribers and VIPs; TuneDeck gives them a subscriber's rules.
NIGHTBOT_LEVELS: dict[str, Role] = {
    "owner": Role.BROADCASTER,
    "moderator": Role.MODERATOR,
    "twitch_vip": Role.VIP,
    "regular": Role.SUBSCRIBER,
    "subscriber": Role.SUBSCRIBER,
    "everyone": Role.REGULAR,
    "admin": Role.REGULAR,  # Nightbot's own staff, not the channel's
}

#: Role names any bot or streamer may write (folded: lower case, letters and digits).
LABELS: dict[str, Role] = {
    **{name: Role.BROADCASTER for name in ("broadcaster", "owner", "streamer", "host")},
    **{
        name: Role.MODERATOR
        for name in ("moderator", "mod", "supermod", "supermoderator", "editor", "manager")
    },
    **{name: Role.VIP for name in ("vip", "twitchvip")},
    **{name: Role.SUBSCRIBER for name in ("subscriber", "sub", "member", "founder")},
    **{name: Role.REGULAR for name in ("regular", "viewer", "everyone", "user", "pleb")},
}

#: A variable a bot did not replace: ``${user}``, ``$(user)``, ``%user%``, ``{user.name}``,
#: or Streamlabs' ``$userid`` kind (only its own names: "$uicideboy" is a name).
_PLACEHOLDER = re.compile(
    r"^(\$\{[^}]*\}|\$\([^)]*\)|%[\w.]+%|\{[\w.]+\}"
    r"|\$(user|sender|touser|target|randuser)\w*|\$(name|id|level|role|platform|mychannel))$",
    re.IGNORECASE,
)
_ID_CHARS = re.compile(r"^[\w:.\-]+$")
_PLATFORM = re.compile(r"^[a-z0-9]{1,16}$")
_TRUE = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True, slots=True)
class Viewer:
    """A viewer as a chat bot described them: ``role`` is what TuneDeck grants,
    ``claimed`` what the bot said."""

    platform: str
    id: str | None
    login: str | None
    display_name: str
    role: Role
    claimed: Role


def role_from_label(label: str) -> Role | None:
    """The role a bot's or streamer's word for it names: a name (``mod``, ``VIP``,
    ``Broadcaster``) or a StreamElements level (100 everyone ... 2000 broadcaster)."""
    word = re.sub(r"[^a-z0-9]", "", label.lower())
    if word.isdigit():
        level = int(word[:6])
        if level >= 1500:
            return Role.BROADCASTER
        if level >= 500:
            return Role.MODERATOR
        if level >= 400:
            return Role.VIP
        return Role.SUBSCRIBER if level >= 250 else Role.REGULAR
    return LABELS.get(word)


def _lowest(roles: list[Role]) -> Role:
    return min(roles, key=_RANK.__getitem__) if roles else Role.REGULAR


def _value(raw: str | None) -> str | None:
    """A bot's value, cleaned; None when absent, empty or a variable left unreplaced."""
    if raw is None:
        return None
    value = clean(raw)
    if not value or _PLACEHOLDER.match(value):
        return None
    return value


def _ident(raw: str | None) -> str | None:
    value = _value(raw)
    if value is None or len(value) > MAX_NAME or not _ID_CHARS.match(value):
        return None
    return value


def _viewer(
    *,
    platform: str | None,
    ident: str | None,
    login: str | None,
    display: str | None,
    claimed: Role,
    trust_roles: bool,
) -> Viewer | None:
    handle = _value(login)
    display = _value(display)
    login = None
    if handle is not None:
        handle = handle.lstrip("@")
        # A handle is an identity (bans name it): one too long is dropped, never cut.
        login = handle.replace(" ", "").lower()
        login = login if 0 < utf16_length(login) <= MAX_NAME else None
    name = bounded((display or handle or "").lstrip("@"), MAX_NAME)
    ident = _ident(ident)
    if not name and ident is None:
        return None
    platform = (_value(platform) or "").lower()
    return Viewer(
        platform=platform if _PLATFORM.match(platform) else "unknown",
        id=ident,
        login=login,
        display_name=name or (ident or ""),
        role=claimed if trust_roles else Role.REGULAR,
        claimed=claimed,
    )


def _fields(encoded: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True, max_num_fields=32):
        fields.setdefault(key, []).append(value)
    return fields


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def from_nightbot(headers: Mapping[str, str], *, trust_roles: bool) -> Viewer | None:
    """The viewer of a Nightbot ``$(urlfetch)``, or None without a ``Nightbot-User``
    (a timer, or another bot). A repeated field is read at its least trusted."""
    lower = {key.lower(): value for key, value in headers.items()}
    raw = lower.get("nightbot-user")
    if raw is None:
        return None
    try:
        user = _fields(raw)
        channel = _fields(lower.get("nightbot-channel", ""))
    except ValueError:  # more fields than any real header has
        return None
    said = user.get("userLevel", [])
    levels = [NIGHTBOT_LEVELS.get(level.lower(), Role.REGULAR) for level in said]
    claimed = _lowest(levels)
    user_id = _first(user, "providerId")
    channel_id = _first(channel, "providerId")
    if user_id and user_id == channel_id:
        claimed = Role.BROADCASTER
    return _viewer(
        platform=_first(user, "provider"),
        ident=user_id,
        login=_first(user, "name"),
        display=_first(user, "displayName"),
        claimed=claimed,
        trust_roles=trust_roles,
    )


def from_fossabot(
    headers: Mapping[str, str], query: Mapping[str, str], *, trust_roles: bool
) -> Viewer | None:
    """The viewer of a Fossabot ``$(customapi)``, or None without its message headers."""
    lower = {key.lower(): value for key, value in headers.items()}
    login = lower.get("x-fossabot-message-userlogin")
    display = lower.get("x-fossabot-message-userdisplayname")
    if login is None and display is None:
        return None
    user_id = _ident(lower.get("x-fossabot-message-userproviderid"))
    level = lower.get("x-fossabot-message-userlevel") or lower.get("x-fossabot-senderlevel")
    claimed = (role_from_label(level) if level else None) or _query_role(query)
    if user_id is not None and user_id == _ident(lower.get("x-fossabot-channelproviderid")):
        claimed = Role.BROADCASTER
    platform = lower.get("x-fossabot-message-userprovider") or lower.get(
        "x-fossabot-channelprovider"
    )
    return _viewer(
        platform=platform,
        ident=user_id,
        login=login,
        display=display,
        claimed=claimed,
        trust_roles=trust_roles,
    )


def _pick(query: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = _value(query.get(name))
        if value is not None:
            return value
    return None


def _query_role(query: Mapping[str, str]) -> Role:
    """The role query parameters claim: the most trusted flag set, else ``role``."""
    for flag, role in (
        ("broadcaster", Role.BROADCASTER),
        ("mod", Role.MODERATOR),
        ("vip", Role.VIP),
        ("sub", Role.SUBSCRIBER),
    ):
        if (_value(query.get(flag)) or "").lower() in _TRUE:
            return role
    label = _pick(query, "role", "level", "userlevel")
    return (role_from_label(label) if label else None) or Role.REGULAR


def from_query(query: Mapping[str, str], *, trust_roles: bool) -> Viewer | None:
    """The viewer named by query parameters, or None when they name nobody."""
    lower = {key.lower(): value for key, value in query.items()}
    return _viewer(
        platform=_pick(lower, "platform", "provider"),
        ident=_pick(lower, "id", "userid", "user_id"),
        login=_pick(lower, "user", "login", "username"),
        display=_pick(lower, "name", "display", "displayname"),
        claimed=_query_role(lower),
        trust_roles=trust_roles,
    )


def identify(
    headers: Mapping[str, str], query: Mapping[str, str], *, trust_roles: bool
) -> Viewer | None:
    """Who sent a chat command: from Nightbot's headers, else Fossabot's, else the query."""
    lowered = {key.lower(): value for key, value in query.items()}
    return (
        from_nightbot(headers, trust_roles=trust_roles)
        or from_fossabot(headers, lowered, trust_roles=trust_roles)
        or from_query(lowered, trust_roles=trust_roles)
    )
