"""Accounts, keys, overlay tokens and sessions: the logic every door (REST, CLI) calls.

Operations open their own unit of work (``ctx.begin()``, see ``accounts.context``) and
never commit by themselves. A plaintext secret is returned exactly once, by the operation
that creates it.

- A caller's operations (the REST doors; the command line and the demo as the operator,
  ``accounts.context.operator``) take a :class:`CallContext`, check the caller's
  permission themselves and act on the caller's own account.
- Before there is a caller, an operation takes the units of work alone: signing in
  (:func:`start_session`, checking the key it is given), and the operator's account
  management (:func:`create_account`, :func:`list_accounts`, :func:`account_named`, and
  finding the account of a key or token the operator names by id).
- :func:`authenticate` is how a door learns who calls: it runs in the unit of work the
  door opened for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts import repository as repo
from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.models import Account, ApiKey, DashboardSession, OverlayToken
from tunedeck.accounts.permissions import (
    Permission,
    Principal,
    PrincipalKind,
    effective_permissions,
    parse_permissions,
    require_permission,
)
from tunedeck.accounts.schemas import (
    MAX_LABEL,
    AccountOut,
    ApiKeyCreated,
    ApiKeyOut,
    MeOut,
    OverlayTokenCreated,
    OverlayTokenOut,
)
from tunedeck.accounts.secrets import SecretKind, display_prefix, hash_secret, kind_of, new_secret
from tunedeck.kit.db import utcnow
from tunedeck.kit.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from tunedeck.kit.unit_of_work import UnitsOfWork

OVERLAY_PATH = "/overlay"
"""Where the overlay page is served, under the public URL."""
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Writing last_used_at on every request would turn reads into writes; once a while is enough.
LAST_USED_RESOLUTION = timedelta(minutes=10)
# A session's idle deadline moves forward when used, at most once a minute (a write).
SESSION_SLIDE_RESOLUTION = timedelta(minutes=1)
CSRF_CONTEXT = b"tunedeck dashboard csrf v1"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Created(Generic[T]):
    """A new row and its plaintext secret, which is shown once and never stored."""

    row: T
    secret: str


def _label(label: str, default: str) -> str:
    label = label.strip() or default
    if len(label) > MAX_LABEL:
        raise ValidationFailed(f"label is longer than {MAX_LABEL} characters")
    return label


# ---- the operator's account management ------------------------------------------------


async def create_account(units: UnitsOfWork, name: str) -> Account:
    async with units.begin() as work:
        return await new_account(work.session, name)


async def new_account(session: AsyncSession, name: str) -> Account:
    """A new account named ``name``, in a unit of work already open (the first-run setup
    creates it with its admin key and the setup link's use, all or nothing)."""
    if not ACCOUNT_NAME.match(name):
        raise ValidationFailed(
            "account name must be 1-64 characters of letters, digits, '_', '.', '-', "
            "starting with a letter or digit"
        )
    if await repo.account_by_name(session, name) is not None:
        raise Conflict(f"account {name!r} already exists")
    account = Account(name=name)
    try:
        # A savepoint: a concurrent insert of the same name fails alone, not the work.
        async with session.begin_nested():
            await repo.add(session, account)
    except IntegrityError:
        raise Conflict(f"account {name!r} already exists") from None
    return account


async def list_accounts(units: UnitsOfWork) -> Sequence[Account]:
    async with units.begin() as work:
        return await repo.list_accounts(work.session)


async def account_named(units: UnitsOfWork, name: str) -> Account:
    async with units.begin() as work:
        account = await repo.account_by_name(work.session, name)
    if account is None:
        raise NotFound(f"no account named {name!r}")
    return account


async def key_owner(units: UnitsOfWork, key_id: uuid.UUID) -> Account:
    """The account of an API key the operator names by its id."""
    async with units.begin() as work:
        key = await repo.api_key(work.session, key_id, None)
        account = None if key is None else await repo.account_by_id(work.session, key.account_id)
    if account is None:
        raise NotFound(f"no API key {key_id}")
    return account


async def token_owner(units: UnitsOfWork, token_id: uuid.UUID) -> Account:
    """The account of an overlay token the operator names by its id."""
    async with units.begin() as work:
        token = await repo.overlay_token(work.session, token_id, None)
        account = (
            None if token is None else await repo.account_by_id(work.session, token.account_id)
        )
    if account is None:
        raise NotFound(f"no overlay token {token_id}")
    return account


# ---- keys and overlay tokens, in a unit of work ---------------------------------------


async def new_key(
    session: AsyncSession, account_id: uuid.UUID, label: str, permissions: Iterable[str]
) -> Created[ApiKey]:
    """A new key of ``account_id`` in a unit of work already open (its secret shown once)."""
    granted = parse_permissions(permissions)
    if not granted:
        raise ValidationFailed("a key needs at least one permission")
    secret = new_secret(SecretKind.API_KEY)
    key = ApiKey(
        account_id=account_id,
        label=_label(label, "key"),
        key_hash=hash_secret(secret),
        prefix=display_prefix(secret),
        permissions=sorted(p.value for p in granted),
    )
    await repo.add(session, key)
    return Created(key, secret)


async def _revoke_key(session: AsyncSession, key_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """Revoke a key of ``account_id`` and end its dashboard sessions."""
    key = await repo.api_key(session, key_id, account_id)
    if key is None:
        raise NotFound(f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    await repo.delete_sessions_of_key(session, key.id)
    await session.flush()


async def _new_overlay_token(
    session: AsyncSession, account_id: uuid.UUID, label: str
) -> Created[OverlayToken]:
    secret = new_secret(SecretKind.OVERLAY_TOKEN)
    token = OverlayToken(
        account_id=account_id,
        label=_label(label, "overlay"),
        token_hash=hash_secret(secret),
        prefix=display_prefix(secret),
    )
    await repo.add(session, token)
    return Created(token, secret)


async def _revoke_overlay_token(
    session: AsyncSession, token_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    token = await repo.overlay_token(session, token_id, account_id)
    if token is None:
        raise NotFound(f"no overlay token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await session.flush()


def overlay_url(public_url: str, token: str) -> str:
    """The overlay page showing ``token``'s account, for OBS's browser source. The token
    travels in the fragment, which browsers never send to the server (no log, no Referer)."""
    return f"{public_url.rstrip('/')}{OVERLAY_PATH}#token={quote(token)}"


def _key_principal(key: ApiKey, account: Account, kind: PrincipalKind) -> Principal:
    granted = [Permission(p) for p in key.permissions]
    return Principal(
        kind=kind,
        account_id=account.id,
        account_name=account.name,
        label=key.label,
        permissions=effective_permissions(granted),
        credential_id=key.id,
    )


@dataclass(frozen=True, slots=True)
class SessionTimes:
    """How long dashboard sessions live: unused (``idle``) and at most (``lifetime``)."""

    idle: timedelta
    lifetime: timedelta


def csrf_token(session_secret: str) -> str:
    """The CSRF token of a dashboard session: derived from its (HttpOnly) secret, so only
    a page that asked ``GET /v1/session`` with the cookie knows it; nothing is stored."""
    digest = hmac.new(session_secret.encode(), CSRF_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token_matches(session_secret: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(
        sent.encode(), csrf_token(session_secret).encode()
    )


def _session_deadline(row: DashboardSession, now: datetime, times: SessionTimes) -> datetime:
    """When a session used at ``now`` ends: idle time from now, within its lifetime."""
    return min(now + times.idle, row.created_at + times.lifetime)


async def authenticate(
    session: AsyncSession, secret: str, *, session_times: SessionTimes | None = None
) -> Principal:
    """The principal a bearer secret stands for; ``Unauthorized`` when it stands for none.

    A dashboard session is used by this call: with ``session_times``, its idle deadline
    moves forward (never past its lifetime)."""
    kind = kind_of(secret)
    digest = hash_secret(secret)
    now = utcnow()
    if kind is SecretKind.API_KEY:
        found = await repo.active_api_key_by_hash(session, digest)
        if found is not None:
            key, account = found
            if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
                await repo.touch_api_key(session, key.id, now)
            return _key_principal(key, account, PrincipalKind.API_KEY)
    elif kind is SecretKind.SESSION:
        live = await repo.live_session_by_hash(session, digest, now)
        if live is not None:
            row, key, account = live
            if session_times is not None:
                deadline = _session_deadline(row, now, session_times)
                if deadline - row.expires_at > SESSION_SLIDE_RESOLUTION:
                    await repo.extend_session(session, row.id, deadline)
            return _key_principal(key, account, PrincipalKind.SESSION)
    elif kind is SecretKind.OVERLAY_TOKEN:
        found_token = await repo.active_overlay_token_by_hash(session, digest)
        if found_token is not None:
            token, account = found_token
            return Principal(
                kind=PrincipalKind.OVERLAY,
                account_id=account.id,
                account_name=account.name,
                label=token.label,
                permissions=frozenset({Permission.OVERLAY_READ}),
                credential_id=token.id,
            )
    raise Unauthorized("invalid, revoked or expired credentials")


async def start_session(
    units: UnitsOfWork, api_key: str, ttl: timedelta, *, idle: timedelta | None = None
) -> tuple[Created[DashboardSession], Principal]:
    """Trade an API key for a dashboard session (stored hashed). It ends ``idle`` after
    its last use (see :func:`authenticate`) and ``ttl`` after it started, whichever
    comes first."""
    if kind_of(api_key) is not SecretKind.API_KEY:
        raise Unauthorized("a dashboard session is made from an API key")
    async with units.begin() as work:
        principal = await authenticate(work.session, api_key)
        now = utcnow()
        await repo.delete_expired_sessions(work.session, now)
        secret = new_secret(SecretKind.SESSION)
        row = DashboardSession(
            api_key_id=principal.credential_id,
            token_hash=hash_secret(secret),
            created_at=now,
            expires_at=now + (min(ttl, idle) if idle is not None else ttl),
        )
        await repo.add(work.session, row)
    return Created(row, secret), principal


# ---- operations of a caller (the REST doors; the operator's commands) -----------------


def me(principal: Principal) -> MeOut:
    """The calling principal: account, key label, permissions (any key or session)."""
    require_permission(principal, None)
    return MeOut(
        account=AccountOut(id=principal.account_id, name=principal.account_name),
        kind=principal.kind,
        label=principal.label,
        key_id=principal.key_id,
        permissions=sorted(p.value for p in principal.permissions),
    )


async def current_session(ctx: CallContext, secret: str | None) -> DashboardSession:
    """The dashboard session the call came with (``NotFound`` for a call with a key)."""
    authorize(ctx, None)
    if secret is None or kind_of(secret) is not SecretKind.SESSION:
        raise NotFound("this call came with an API key, not a dashboard session")
    async with ctx.begin() as work:
        live = await repo.live_session_by_hash(work.session, hash_secret(secret), utcnow())
    if live is None:
        raise Unauthorized("the dashboard session has ended")
    return live[0]


async def logout(ctx: CallContext, secret: str | None) -> None:
    """End the dashboard session ``secret`` if the call came with one (a key: nothing)."""
    authorize(ctx, None)
    if secret is not None and kind_of(secret) is SecretKind.SESSION:
        async with ctx.begin() as work:
            await repo.delete_session_by_hash(work.session, hash_secret(secret))


async def list_keys(ctx: CallContext) -> list[ApiKeyOut]:
    """The API keys of the caller's account (admin)."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        keys = await repo.list_api_keys(work.session, account_id)
        return [ApiKeyOut.model_validate(k) for k in keys]


async def create_key(ctx: CallContext, label: str, permissions: Iterable[str]) -> ApiKeyCreated:
    """A new key of the caller's account (admin), with its secret shown this once."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        created = await new_key(work.session, account_id, label, permissions)
        out = ApiKeyOut.model_validate(created.row)
    return ApiKeyCreated(**out.model_dump(), key=created.secret)


async def revoke_key(ctx: CallContext, key_id: uuid.UUID) -> None:
    """Revoke a key of the caller's account (admin); another account's key is not found."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        await _revoke_key(work.session, key_id, account_id)


async def list_tokens(ctx: CallContext) -> list[OverlayTokenOut]:
    """The overlay tokens of the caller's account (admin)."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        tokens = await repo.list_overlay_tokens(work.session, account_id)
        return [OverlayTokenOut.model_validate(t) for t in tokens]


async def create_token(ctx: CallContext, label: str, public_url: str) -> OverlayTokenCreated:
    """A new overlay token of the caller's account (admin) and its overlay page's URL,
    both shown this once."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        created = await _new_overlay_token(work.session, account_id, label)
        out = OverlayTokenOut.model_validate(created.row)
    return OverlayTokenCreated(
        **out.model_dump(),
        token=created.secret,
        overlay_url=overlay_url(public_url, created.secret),
    )


async def revoke_token(ctx: CallContext, token_id: uuid.UUID) -> None:
    """Revoke an overlay token of the caller's account (admin)."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        await _revoke_overlay_token(work.session, token_id, account_id)
