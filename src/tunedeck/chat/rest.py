"""REST doors of the chat domain: chat tokens and their bot commands (admin), and the chat
door itself (``GET /v1/chat/{command}``, public: its token is checked by the door,
``chat.door``). Transport only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import PlainTextResponse

from tunedeck.accounts.auth import GuardedRoute, call_context, public
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.permissions import Permission
from tunedeck.chat import door, tokens
from tunedeck.chat.deps import chat_runtime
from tunedeck.chat.schemas import (
    BotSnippets,
    ChatTokenCreate,
    ChatTokenCreated,
    ChatTokenOut,
    SnippetsRequest,
)
from tunedeck.kit.deps import SettingsDep
from tunedeck.kit.error_docs import error_doc
from tunedeck.requests.answers import chat_line

router = APIRouter(prefix="/v1", tags=["chat"], route_class=GuardedRoute)

Admin = Annotated[CallContext, call_context(Permission.ADMIN)]
PLAIN_TEXT = "text/plain; charset=utf-8"


@router.get("/chat-tokens")
async def list_chat_tokens(ctx: Admin) -> list[ChatTokenOut]:
    """The account's chat tokens (never the tokens)."""
    return await tokens.list_chat_tokens(ctx)


@router.post("/chat-tokens", status_code=status.HTTP_201_CREATED)
async def create_chat_token(
    body: ChatTokenCreate, ctx: Admin, settings: SettingsDep
) -> ChatTokenCreated:
    """Create a chat token. The token, and the commands to paste into each chat bot, are
    in this response and nowhere else."""
    return await tokens.create_chat_token(
        ctx, body.label, trust_roles=body.trust_roles, public_url=settings.public_url
    )


@router.post(
    "/chat-tokens/snippets",
    responses={404: error_doc("The token given is not an active chat token of this account.")},
)
async def chat_snippets(
    body: SnippetsRequest, ctx: Admin, settings: SettingsDep
) -> list[BotSnippets]:
    """The commands to paste into each chat bot, with the chat token given (a POST: the
    token never sits in a URL), or a placeholder to replace."""
    return await tokens.snippets(ctx, body.token, settings.public_url)


@router.delete(
    "/chat-tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: error_doc("No such chat token in this account.")},
)
async def revoke_chat_token(token_id: uuid.UUID, ctx: Admin) -> None:
    """Revoke a chat token: its bots' commands answer that the link is no longer valid."""
    await tokens.revoke_chat_token(ctx, token_id)


@router.get(
    "/chat/{command}",
    dependencies=[Depends(public)],
    response_class=PlainTextResponse,
    responses={200: {"content": {PLAIN_TEXT: {"example": "@viewer, added Song — Artist at #2"}}}},
)
async def chat_command(command: str, request: Request) -> PlainTextResponse:
    """A chat bot's command (``sr``, ``song``, ``lastsong``, ``queue``, ``pos``, ``when``,
    ``wrongsong``; for moderators ``skip``, ``sropen``, ``srclose``) with the chat token in
    ``token`` and the text after the command in ``q``. The viewer comes from Nightbot's or
    Fossabot's headers, or from ``user``, ``name``, ``id``, ``platform``, ``role`` /
    ``level`` parameters. Always 200 and one line of at most 400 characters: a refusal
    is a sentence for chat."""
    query = {key: value for key, value in request.query_params.items()}
    line = await door.answer(request, chat_runtime(request), command, query)
    return PlainTextResponse(chat_line(line), media_type=PLAIN_TEXT)
