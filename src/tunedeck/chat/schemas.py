"""Shapes of the chat-token API. No shape carries a stored secret; ``ChatTokenCreated``
carries the new token once, with the bot commands that hold it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from tunedeck.kit.constraints import Text

MAX_LABEL = 100


class ChatTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    label: str
    prefix: str = Field(description="First characters of the token, to recognise it.")
    trust_roles: bool = Field(
        description="Whether the role a bot reports (moderator, VIP, subscriber) is believed."
    )
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ChatTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[StrictStr, Text(MAX_LABEL, blank_ok=True)] = Field(
        default="chat bot", description="Blank: named 'chat bot'."
    )
    trust_roles: StrictBool = Field(
        default=True,
        description="Believe the role the bot reports. Anyone holding the token's URL can "
        "claim any role: turn it off when the URL may be seen by others (every viewer is "
        "then a regular one and moderator commands are refused).",
    )


class BotCommand(BaseModel):
    """One chat command as a bot takes it: its name and the text to paste."""

    command: str = Field(examples=["!sr"])
    moderators_only: bool
    text: str = Field(description="What to paste as the command's response.")


class BotSnippets(BaseModel):
    """How to add TuneDeck's commands to one chat bot."""

    bot: str = Field(examples=["nightbot"])
    name: str = Field(examples=["Nightbot"])
    how: str = Field(description="Where in the bot the commands are added.")
    commands: list[BotCommand]


class SnippetsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[StrictStr, Text(200, blank_ok=True)] | None = Field(
        default=None,
        description="A chat token of this account to put in the commands; without it, a "
        "placeholder to replace.",
    )


class ChatTokenCreated(ChatTokenOut):
    token: str = Field(description="The token itself. Shown this once; only its hash is stored.")
    bots: list[BotSnippets] = Field(description="The commands to paste, for each chat bot.")
