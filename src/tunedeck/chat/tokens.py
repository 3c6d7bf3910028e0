"""Chat tokens: created (shown once, with the bot commands that hold it), listed and
revoked like overlay tokens, by an admin of the account or the operator; and looked up
by the chat door (:func:`chat_caller`).

A chat token stands for a chat bot: in its URL because bots can do nothing else, kept
as a hash, never logged (``kit.logs`` blanks ``tdc_`` secrets and ``token=`` values).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.models import Account
from tunedeck.accounts.permissions import Permission
from tunedeck.accounts.secrets import SecretKind, display_prefix, hash_secret, kind_of, new_secret
from tunedeck.accounts.service import LAST_USED_RESOLUTION  # as API keys: reads stay reads
from tunedeck.chat import repository as repo
from tunedeck.chat.schemas import MAX_LABEL, BotSnippets, ChatTokenCreated, ChatTokenOut
from tunedeck.chat.snippets import render_snippets
from tunedeck.kit.db import utcnow
from tunedeck.kit.errors import NotFound, Unauthorized, ValidationFailed
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.requests.models import ChatToken


@dataclass(frozen=True, slots=True)
class ChatCaller:
    """Who a chat token stands for: the account, the token, and whether the roles its
    bot reports are believed."""

    account_id: uuid.UUID
    account_name: str
    token_id: uuid.UUID
    label: str
    trust_roles: bool


def _label(label: str) -> str:
    label = label.strip() or "chat bot"
    if len(label) > MAX_LABEL:
        raise ValidationFailed(f"label is longer than {MAX_LABEL} characters")
    return label


async def list_chat_tokens(ctx: CallContext) -> list[ChatTokenOut]:
    """The chat tokens of the caller's account (admin)."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        tokens = await repo.list_tokens(work.session, account_id)
        return [ChatTokenOut.model_validate(t) for t in tokens]


async def create_chat_token(
    ctx: CallContext, label: str, *, trust_roles: bool, public_url: str
) -> ChatTokenCreated:
    """A new chat token of the caller's account (admin), with the commands to paste into
    each bot; both shown this once."""
    account_id = authorize(ctx, Permission.ADMIN)
    secret = new_secret(SecretKind.CHAT_TOKEN)
    async with ctx.begin() as work:
        token = ChatToken(
            account_id=account_id,
            label=_label(label),
            token_hash=hash_secret(secret),
            prefix=display_prefix(secret),
            trust_roles=trust_roles,
        )
        await repo.add(work.session, token)
        out = ChatTokenOut.model_validate(token)
    return ChatTokenCreated(
        **out.model_dump(), token=secret, bots=render_snippets(public_url, secret)
    )


async def revoke_chat_token(ctx: CallContext, token_id: uuid.UUID) -> None:
    """Revoke a chat token of the caller's account (admin): its bots' commands answer
    that the link is no longer valid. Another account's token is not found."""
    account_id = authorize(ctx, Permission.ADMIN)
    async with ctx.begin() as work:
        token = await repo.token(work.session, token_id, account_id)
        if token is None:
            raise NotFound(f"no chat token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            await work.session.flush()


async def chat_token_owner(units: UnitsOfWork, token_id: uuid.UUID) -> Account:
    """The account of a chat token the operator names by its id."""
    async with units.begin() as work:
        token = await repo.token(work.session, token_id, None)
        account = None if token is None else await work.session.get(Account, token.account_id)
    if account is None:
        raise NotFound(f"no chat token {token_id}")
    return account


async def snippets(ctx: CallContext, token: str | None, public_url: str) -> list[BotSnippets]:
    """The bot commands for this TuneDeck (admin): with ``token`` when it is an active
    chat token of the caller's account (the page that just created it), else with a
    placeholder to replace."""
    account_id = authorize(ctx, Permission.ADMIN)
    if token:
        async with ctx.begin() as work:
            found = await _active(work.session, token)
        if found is None or found[0].account_id != account_id:
            raise NotFound("no active chat token of this account is that one")
    return render_snippets(public_url, token or None)


async def _active(session: AsyncSession, secret: str) -> tuple[ChatToken, Account] | None:
    if kind_of(secret) is not SecretKind.CHAT_TOKEN:
        return None
    return await repo.active_token_by_hash(session, hash_secret(secret))


async def chat_caller(units: UnitsOfWork, secret: str | None) -> ChatCaller:
    """Who the chat token ``secret`` stands for; ``Unauthorized`` for a missing, unknown
    or revoked one. Its last use is stamped (at most every few minutes)."""
    if not secret:
        raise Unauthorized("no chat token")
    async with units.begin() as work:
        found = await _active(work.session, secret)
        if found is None:
            raise Unauthorized("unknown or revoked chat token")
        token, account = found
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            await repo.touch(work.session, token.id, now)
        return ChatCaller(
            account_id=account.id,
            account_name=account.name,
            token_id=token.id,
            label=token.label,
            trust_roles=token.trust_roles,
        )
