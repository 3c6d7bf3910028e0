"""Connect an account to Spotify the way the OAuth flow would leave it, with tokens the
simulator minted (so the test knows them)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tests.kit import storage
from tunedeck.connections import repository
from tunedeck.kit.db import Database, utcnow


async def save_minted(
    database: Database,
    account_id: uuid.UUID,
    minted: dict[str, Any],
    *,
    client_id: str,
    client_secret: str,
    expires_in: int,
    spotify_user_id: str,
) -> None:
    """Store the app's credentials and a connection holding ``minted``'s tokens."""
    async with database.session() as session:
        await repository.save_app_credentials(
            session, storage.TEST_KEYRING, account_id, client_id, client_secret
        )
        await repository.save_connection(
            session,
            storage.TEST_KEYRING,
            account_id,
            access_token=minted["access_token"],
            refresh_token=minted["refresh_token"],
            expires_at=utcnow() + timedelta(seconds=expires_in),
            scopes=minted["scope"],
            spotify_user_id=spotify_user_id,
        )
