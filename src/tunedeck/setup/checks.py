"""Checks the setup page and ``tunedeck doctor`` share, each answering in the
streamer's words: is the public URL one Spotify takes as a redirect URI, and who is the
connected Spotify user (allowed into the app? Premium?)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import httpx

from tunedeck.config import Settings
from tunedeck.connections.errors import SpotifyNeedsReauth, SpotifyNotConnected
from tunedeck.connections.oauth_flow import NOT_REGISTERED
from tunedeck.connections.token_manager import redirect_uri_for
from tunedeck.player.context import SpotifyClients
from tunedeck.setup.schemas import Problem, SpotifyAccount
from tunedeck.spotify.errors import SpotifyError
from tunedeck.spotify.oauth import check_redirect_uri


def public_url_problem(settings: Settings) -> Problem | None:
    """What is wrong with TUNEDECK_PUBLIC_URL as the base of Spotify's redirect URI."""
    parts = urlsplit(settings.public_url)
    if (parts.hostname or "").lower() == "localhost":
        port = f":{parts.port}" if parts.port else ""
        return Problem(
            code="public_url_localhost",
            message="Your public URL says “localhost”, which Spotify no longer accepts in "
            "redirect URIs.",
            fix=f"Set TUNEDECK_PUBLIC_URL to http://127.0.0.1{port} and start TuneDeck again.",
        )
    try:
        check_redirect_uri(redirect_uri_for(settings))
    except ValueError:
        return Problem(
            code="public_url_not_https",
            message=f"Spotify does not accept {settings.public_url} in a redirect URI: it "
            "takes https addresses, or http on 127.0.0.1.",
            fix="Set TUNEDECK_PUBLIC_URL to an https address (or http://127.0.0.1:PORT when "
            "everything runs on this computer) and start TuneDeck again.",
        )
    return None


def user_problem(error: SpotifyError) -> Problem:
    """A Spotify refusal of the connected user, explained."""
    if error.status == 403 and NOT_REGISTERED in error.message.lower():
        return NOT_IN_APP
    return Problem(
        code="spotify_unavailable",
        message=f"Spotify did not answer as expected ({error.message[:120]}).",
        fix="Try again in a minute; if it keeps failing, check https://status.spotify.dev.",
    )


NOT_IN_APP = Problem(
    code="spotify_user_not_registered",
    message="Spotify says this Spotify account is not allowed to use your app yet.",
    fix="On Spotify's developer dashboard open your app → User Management, add the "
    "account's name and e-mail, save, then connect again.",
)
FREE_ACCOUNT = Problem(
    code="premium_required",
    message="This Spotify account does not have Premium.",
    fix="The overlay works, but Spotify only lets Premium accounts be controlled "
    "(play, skip, song requests), and an app in development mode needs an owner with "
    "Premium. Connect a Premium account to use those.",
)


async def spotify_account_check(
    clients: SpotifyClients, account_id: uuid.UUID
) -> tuple[SpotifyAccount | None, Problem | None]:
    """Who the connected Spotify user is, and what stands in the way, if anything."""
    try:
        client = await clients.client_for(account_id)
        user = await client.current_user()
    except SpotifyNeedsReauth:
        return None, Problem(
            code="spotify_needs_reauth",
            message="Spotify no longer accepts TuneDeck's connection to this account.",
            fix="Press “Connect Spotify” to connect it again.",
        )
    except SpotifyNotConnected:
        return None, None
    except SpotifyError as exc:
        return None, user_problem(exc)
    except httpx.HTTPError:
        return None, Problem(
            code="spotify_unreachable",
            message="TuneDeck could not reach Spotify.",
            fix="Check this computer's internet connection, then try again.",
        )
    account = SpotifyAccount(id=user.id, display_name=user.display_name, premium=user.is_premium)
    return account, None if user.is_premium else FREE_ACCOUNT
