"""Permissions, the principal, and THE permission check every door calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from tunedeck.kit.errors import ErrorDetails, Forbidden, ValidationFailed


class Permission(StrEnum):
    SPOTIFY_READ = "spotify:read"
    SPOTIFY_PLAYBACK = "spotify:playback"
    SPOTIFY_QUEUE = "spotify:queue"
    SPOTIFY_PLAYLIST = "spotify:playlist"
    SPOTIFY_DEVICE = "spotify:device"
    SPOTIFY_WORKER = "spotify:worker"
    # Start and stop streams (the play history's periods on air).
    STREAMS_MANAGE = "streams:manage"
    # Account management over the API: app credentials, connecting Spotify, keys, tokens.
    ADMIN = "admin"
    # Read now playing (the overlay's feed). Overlay tokens hold only this; a key holding
    # spotify:read holds it implicitly; a key may hold only it (a "now playing" bot).
    OVERLAY_READ = "overlay:read"
    # Song requests: the queue, history, settings and bans; submitting on a viewer's
    # behalf (chat bots and other tools); approving, rejecting, moving, skipping, banning,
    # opening and closing, changing the rules.
    REQUESTS_READ = "requests:read"
    REQUESTS_SUBMIT = "requests:submit"
    REQUESTS_MODERATE = "requests:moderate"


GRANTABLE: tuple[Permission, ...] = tuple(Permission)
IMPLIED: dict[Permission, frozenset[Permission]] = {
    Permission.SPOTIFY_READ: frozenset({Permission.OVERLAY_READ}),
}


class PrincipalKind(StrEnum):
    API_KEY = "api_key"
    SESSION = "session"  # a dashboard session made from an API key
    OVERLAY = "overlay"  # an overlay token: now playing of one account, nothing else
    # Whoever runs the command line or the demo's set-up, acting for one account: they hold
    # the database, so no credential stands for them (``accounts.context.operator``).
    OPERATOR = "operator"
    # A chat token: a chat bot speaking for the viewers of one channel. The chat door
    # decides its permissions per command (a moderator's command needs a moderator).
    CHAT = "chat"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: bound to one account, with a display label and permissions."""

    kind: PrincipalKind
    account_id: uuid.UUID
    account_name: str
    label: str
    permissions: frozenset[Permission]
    # The API key (for keys and sessions), overlay token or chat token that authenticated
    # the call.
    credential_id: uuid.UUID

    @property
    def key_id(self) -> uuid.UUID | None:
        """The API key behind the call (None for an overlay or chat token, or the operator)."""
        if self.kind in (PrincipalKind.OVERLAY, PrincipalKind.OPERATOR, PrincipalKind.CHAT):
            return None
        return self.credential_id

    def has(self, permission: Permission | None) -> bool:
        """Whether this principal may do what ``permission`` guards (``None``: anything that
        needs no particular permission, like reading /v1/me, which overlay tokens may not)."""
        if self.kind is PrincipalKind.OVERLAY:
            return permission is Permission.OVERLAY_READ
        if self.kind is PrincipalKind.CHAT:  # only what the chat door granted, never "any key"
            return permission is not None and permission in self.permissions
        return permission is None or permission in self.permissions


def parse_permissions(values: Iterable[str]) -> frozenset[Permission]:
    """Grantable permissions from names; any unknown name is refused, naming it."""
    names = [v.strip() for v in values if v.strip()]
    unknown = [n for n in names if n not in {p.value for p in GRANTABLE}]
    if unknown:
        known = ", ".join(p.value for p in GRANTABLE)
        raise ValidationFailed(
            f"unknown permission {', '.join(repr(u) for u in unknown)}; known: {known}",
            code="unknown_permission",
        )
    return frozenset(Permission(n) for n in names)


def effective_permissions(granted: Iterable[Permission]) -> frozenset[Permission]:
    """What a key holding ``granted`` may do, implied permissions included."""
    result = set(granted)
    for permission in list(result):
        result |= IMPLIED.get(permission, frozenset())
    return frozenset(result)


def require_permission(principal: Principal, permission: Permission | None) -> None:
    """The one permission check, for REST, GraphQL and WebSocket alike: raise ``Forbidden``.

    ``permission=None`` admits any API key or session but no overlay token.
    """
    if principal.has(permission):
        return
    needed = permission.value if permission else "an API key"
    if principal.kind is PrincipalKind.OVERLAY:
        message = f"overlay tokens can only read now playing (this needs {needed})"
    elif principal.kind is PrincipalKind.CHAT and permission is None:
        message = "chat tokens can only run chat commands (this needs an API key)"
    else:
        message = f"missing permission {needed}"
    raise Forbidden(message, code="missing_permission", details=ErrorDetails(permission=needed))
