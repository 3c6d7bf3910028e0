"""Who a live client is: its credential, what it may read, and whether its origin is allowed.

Live connections authenticate like every door (``accounts.service.authenticate``), in one
short unit of work of their own, and remember which credential they used so that its
revocation closes them (:mod:`tunedeck.realtime.revocation`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from tunedeck.accounts import service as accounts
from tunedeck.accounts.auth import credential_from
from tunedeck.accounts.permissions import Permission, Principal, PrincipalKind
from tunedeck.accounts.secrets import hash_secret
from tunedeck.accounts.throttle import TooManyFailedLogins, authentication_attempt
from tunedeck.kit.db import Database
from tunedeck.kit.errors import Unauthorized, describe, is_database_unavailable
from tunedeck.realtime.messages import OVERLAY_TYPES
from tunedeck.realtime.protocol import BUSY_REASON, CloseCode, Refused

logger = logging.getLogger(__name__)

# What a key (or session) with spotify:read receives: everything on the channel.
KEY_TYPES = OVERLAY_TYPES | {"event", "play"}
# What a key holding requests:read receives besides: song request changes.
REQUEST_TYPES = frozenset({"hello", "reset", "request"})


@dataclass(frozen=True, slots=True)
class Credential:
    """The credential a connection authenticated with, as revocation checks it: the API
    key (of a key or a session) or the overlay token, and for a session its hash."""

    kind: PrincipalKind
    id: uuid.UUID
    session_hash: str | None = None


@dataclass(frozen=True, slots=True)
class LiveClient:
    """An authenticated live client: who, with which credential, reading which types."""

    principal: Principal
    credential: Credential
    reads: frozenset[str]

    @property
    def account_id(self) -> uuid.UUID:
        return self.principal.account_id


def reads_of(principal: Principal) -> frozenset[str]:
    """The message types ``principal`` may receive; :class:`Refused` (4403) for none.
    ``request`` messages need ``requests:read`` (never an overlay token's)."""
    requests = REQUEST_TYPES if principal.has(Permission.REQUESTS_READ) else frozenset()
    if principal.has(Permission.SPOTIFY_READ):
        return KEY_TYPES | requests
    if principal.has(Permission.OVERLAY_READ):
        return OVERLAY_TYPES | requests
    if requests:
        return requests
    raise Refused(CloseCode.FORBIDDEN, "missing permission spotify:read")


def handshake_secret(conn: HTTPConnection) -> str | None:
    """The secret sent with the handshake or request (header, cookie, WebSocket ``?token=``)."""
    try:
        return credential_from(conn)
    except Unauthorized as exc:
        raise Refused(CloseCode.UNAUTHENTICATED, exc.message) from None


def credential_of(principal: Principal, secret: str | None) -> Credential:
    """What revocation checks for a principal authenticated with ``secret``."""
    session = principal.kind is PrincipalKind.SESSION and secret is not None
    session_hash = hash_secret(secret) if session and secret is not None else None
    return Credential(principal.kind, principal.credential_id, session_hash)


async def authenticate(conn: HTTPConnection, db: Database, secret: str) -> LiveClient:
    """The live client ``secret`` stands for, sent over ``conn``, in its own unit of
    work; :class:`Refused` (as :func:`authenticate_principal`, or 4403 not allowed to
    read now playing)."""
    principal = await authenticate_principal(conn, db, secret)
    return LiveClient(principal, credential_of(principal, secret), reads_of(principal))


async def authenticate_principal(conn: HTTPConnection, db: Database, secret: str) -> Principal:
    """The principal ``secret`` stands for, sent over ``conn``, in its own unit of work,
    throttled as every door is (``accounts.throttle``); :class:`Refused` (4401 unknown or
    revoked, 4429 too many failed sign-ins from the address, 1013 the database unable to
    tell just now)."""
    try:
        async with authentication_attempt(conn), db.session() as session:
            principal = await accounts.authenticate(session, secret)
    except Unauthorized:
        raise Refused(
            CloseCode.UNAUTHENTICATED, "invalid, revoked or expired credentials"
        ) from None
    except TooManyFailedLogins as exc:
        raise Refused(CloseCode.TOO_MANY, exc.message) from None
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        logger.warning("live: database unavailable checking a credential: %s", describe(exc))
        raise Refused(CloseCode.TRY_AGAIN_LATER, BUSY_REASON) from None
    return principal
