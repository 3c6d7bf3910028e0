"""How a viewer is known in the queue and the bans: by platform and the bot's id for them,
else their login, else their display name (bots that pass no id still get caps and bans
that hold)."""

from __future__ import annotations

from dataclasses import dataclass

from tunedeck.requests.text import fold
from tunedeck.requests.viewers import Viewer

MAX_KEY = 100
"""The ``viewer_id`` columns' length."""


@dataclass(frozen=True, slots=True)
class ViewerKey:
    """A viewer's identity on a channel: ``id`` as stored with their requests, and every
    identity a ban of them may have been written under."""

    platform: str
    id: str
    ban_ids: frozenset[str]


def login_key(login: str) -> str:
    """The identity of a viewer known only by their login (or banned by it)."""
    return f"login:{login.lower()}"[:MAX_KEY]


def viewer_key(viewer: Viewer) -> ViewerKey:
    """The identity of ``viewer``."""
    ids: set[str] = set()
    if viewer.id:
        ids.add(viewer.id[:MAX_KEY])
    if viewer.login:
        ids.add(login_key(viewer.login))
    if viewer.id:
        primary = viewer.id[:MAX_KEY]
    elif viewer.login:
        primary = login_key(viewer.login)
    else:
        primary = f"name:{fold(viewer.display_name)}"[:MAX_KEY]
        ids.add(primary)
    return ViewerKey(platform=viewer.platform, id=primary, ban_ids=frozenset(ids))
