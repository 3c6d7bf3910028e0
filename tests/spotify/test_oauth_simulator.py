"""The OAuth helpers against the simulator's accounts service: the whole authorization-code
flow (Basic and PKCE), refresh keeping or rotating the refresh token, and refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.errors import SpotifyInvalidGrantError, SpotifyTokenError
from tunedeck.spotify.oauth import SpotifyOAuth, TokenGrant, new_pkce_pair, new_state

from .conftest import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FAST_POLICY, REDIRECT_URI, Simulator


async def _authorize(http: httpx.AsyncClient, url: str, login: str = "demo") -> dict[str, str]:
    """Follow the authorize URL as the user would; the simulator redirects at once."""
    response = await http.get(f"{url}&login={login}", follow_redirects=False)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {key: values[0] for key, values in parse_qs(location.query).items()}


async def _me(http: httpx.AsyncClient, sim: Simulator, grant: TokenGrant) -> str:
    async def provider(*, force_refresh: bool = False) -> str:
        return grant.access_token

    client = SpotifyClient(http, provider, api_url=sim.api_url, policy=FAST_POLICY)
    return (await client.current_user()).id


def _basic(
    sim: Simulator, http: httpx.AsyncClient, secret: str = DEMO_CLIENT_SECRET
) -> SpotifyOAuth:
    return SpotifyOAuth(
        http,
        client_id=DEMO_CLIENT_ID,
        client_secret=secret,
        redirect_uri=REDIRECT_URI,
        accounts_url=sim.url,
    )


def _pkce(sim: Simulator, http: httpx.AsyncClient) -> SpotifyOAuth:
    return SpotifyOAuth(
        http, client_id=DEMO_CLIENT_ID, redirect_uri=REDIRECT_URI, accounts_url=sim.url
    )


async def test_code_flow_with_secret(sim: Simulator, http: httpx.AsyncClient) -> None:
    oauth = _basic(sim, http)
    state = new_state()
    back = await _authorize(http, oauth.authorize_url(state=state))
    assert back["state"] == state
    grant = await oauth.exchange_code(back["code"])
    assert grant.token_type == "Bearer"
    assert grant.expires_in > 0
    assert "user-modify-playback-state" in grant.scopes
    assert await _me(http, sim, grant) == "demo"
    assert await sim.token_requests("authorization_code") == 1

    refreshed = await oauth.refresh(grant.refresh_token)
    assert refreshed.rotated is False
    assert refreshed.refresh_token == grant.refresh_token  # none returned: keep the old one
    assert refreshed.access_token != grant.access_token
    assert await _me(http, sim, refreshed) == "demo"
    # The kept refresh token still works.
    assert (await oauth.refresh(refreshed.refresh_token)).rotated is False
    assert await sim.token_requests("refresh_token") == 2

    with pytest.raises(SpotifyInvalidGrantError):
        await oauth.exchange_code(back["code"])  # codes are single use


async def test_code_flow_with_pkce_rotates(sim: Simulator, http: httpx.AsyncClient) -> None:
    oauth = _pkce(sim, http)
    verifier, challenge = new_pkce_pair()
    back = await _authorize(
        http, oauth.authorize_url(state="s1", code_challenge=challenge), login="free"
    )
    grant = await oauth.exchange_code(back["code"], code_verifier=verifier)
    assert await _me(http, sim, grant) == "free"

    refreshed = await oauth.refresh(grant.refresh_token)
    assert refreshed.rotated is True
    assert refreshed.refresh_token != grant.refresh_token
    assert await _me(http, sim, refreshed) == "free"
    with pytest.raises(SpotifyInvalidGrantError):
        await oauth.refresh(grant.refresh_token)  # the rotated-away token is spent
    assert (await oauth.refresh(refreshed.refresh_token)).rotated is True


async def test_pkce_wrong_verifier_is_invalid_grant(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    oauth = _pkce(sim, http)
    _, challenge = new_pkce_pair()
    other_verifier, _ = new_pkce_pair()
    back = await _authorize(http, oauth.authorize_url(state="s", code_challenge=challenge))
    with pytest.raises(SpotifyInvalidGrantError) as caught:
        await oauth.exchange_code(back["code"], code_verifier=other_verifier)
    assert caught.value.error == "invalid_grant"
    assert other_verifier not in str(caught.value)


async def test_revoked_refresh_token_is_invalid_grant(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    oauth = _basic(sim, http)
    back = await _authorize(http, oauth.authorize_url(state="s"))
    grant = await oauth.exchange_code(back["code"])
    await sim.revoke("demo")
    with pytest.raises(SpotifyInvalidGrantError) as caught:
        await oauth.refresh(grant.refresh_token)
    assert caught.value.status == 400
    assert grant.refresh_token not in str(caught.value)
    assert grant.refresh_token not in repr(caught.value)


async def test_wrong_secret_is_invalid_client(sim: Simulator, http: httpx.AsyncClient) -> None:
    good = _basic(sim, http)
    back = await _authorize(http, good.authorize_url(state="s"))
    bad = _basic(sim, http, secret="not-the-secret")
    with pytest.raises(SpotifyTokenError) as caught:
        await bad.exchange_code(back["code"])
    assert not isinstance(caught.value, SpotifyInvalidGrantError)
    assert caught.value.error == "invalid_client"
    assert caught.value.status == 401
    assert "not-the-secret" not in str(caught.value)
    assert "not-the-secret" not in repr(bad)
