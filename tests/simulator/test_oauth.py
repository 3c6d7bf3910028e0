"""Accounts service: /authorize and /api/token, PKCE, rotation, revocation, expiry."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.simulator import REDIRECT_URI, Sim, pkce_pair, start
from tunedeck.simulator.config import AppConfig, SimulatorConfig
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, LOOPBACK_REDIRECT_URIS


def location_query(response_location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response_location).query)


def pkce_token(sim: Sim, **form: str) -> httpx.Response:
    """A token request from a public client: client_id in the form, no secret."""
    return sim.http.post("/api/token", data={"client_id": DEMO_CLIENT_ID, **form})


def test_authorize_redirects_with_code_and_state(sim: Sim) -> None:
    response = sim.authorize()
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = location_query(location)
    assert query["state"] == ["xyz"]
    assert len(query["code"][0]) > 20


def test_authorization_code_with_basic_auth(sim: Sim) -> None:
    code = sim.code(scope="user-read-playback-state user-read-email")
    response = sim.token_basic(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "user-read-playback-state user-read-email"
    assert body["refresh_token"]
    me = sim.api_with(body["access_token"]).get("/me")
    assert me.json()["id"] == "demo"
    assert sim.stats()["token_requests"]["authorization_code"] == 1


def test_login_parameter_picks_the_user(sim: Sim) -> None:
    code = sim.code(login="free")
    body = sim.token_basic(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    ).json()
    me = sim.api_with(body["access_token"]).get("/me").json()
    assert me["id"] == "free"
    assert me["product"] == "free"


def test_code_is_single_use_and_bound_to_redirect_uri(sim: Sim) -> None:
    code = sim.code()
    wrong = sim.token_basic(
        grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1:9/other"
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # The failed attempt consumed the code, as any use does.
    again = sim.token_basic(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid authorization code",
    }


def test_pkce_flow_and_rotation(sim: Sim) -> None:
    verifier, challenge = pkce_pair()
    code = sim.code(code_challenge=challenge, code_challenge_method="S256")
    first = pkce_token(
        sim,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )
    assert first.status_code == 200, first.text
    refresh_1 = first.json()["refresh_token"]

    refreshed = pkce_token(sim, grant_type="refresh_token", refresh_token=refresh_1)
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body["refresh_token"] != refresh_1
    assert body["scope"] == "user-read-playback-state user-modify-playback-state"
    assert sim.api_with(body["access_token"]).get("/me").status_code == 200

    reused = pkce_token(sim, grant_type="refresh_token", refresh_token=refresh_1)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert reused.json()["error_description"]
    assert sim.stats()["token_requests"]["refresh_token"] == 2


def test_pkce_wrong_verifier_is_refused(sim: Sim) -> None:
    _, challenge = pkce_pair()
    code = sim.code(code_challenge=challenge, code_challenge_method="S256")
    response = pkce_token(
        sim,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier="not-the-verifier",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_basic_refresh_keeps_the_refresh_token(sim: Sim) -> None:
    code = sim.code()
    tokens = sim.token_basic(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    ).json()
    first = sim.token_basic(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert first.status_code == 200
    assert "refresh_token" not in first.json()
    assert first.json()["access_token"] != tokens["access_token"]
    # Not rotated: the same refresh token keeps working.
    second = sim.token_basic(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert second.status_code == 200


def test_revoked_refresh_token_gives_invalid_grant(sim: Sim) -> None:
    tokens = sim.mint("demo")
    assert sim.http.post("/_sim/tokens/revoke", json={"user": "demo"}).json()["revoked"] >= 1
    response = sim.token_basic(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token revoked",
    }


def test_bad_client_credentials(sim: Sim) -> None:
    code = sim.code()
    wrong_secret = sim.http.post(
        "/api/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(DEMO_CLIENT_ID, "wrong"),
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json() == {"error": "invalid_client", "error_description": "Invalid client"}
    unknown = sim.http.post(
        "/api/token",
        data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": "nope"},
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_client"


def test_unsupported_grant_type(sim: Sim) -> None:
    response = sim.token_basic(grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def refused_with_spotifys_page(response: httpx.Response, message: str) -> bool:
    """Spotify's answer to an unknown app or an unregistered redirect URI: its error
    page, no redirect."""
    return (
        response.status_code == 400
        and response.headers["content-type"].startswith("text/html")
        and message in response.text
        and "location" not in response.headers
    )


def test_authorize_unknown_client_is_an_error_not_a_redirect(sim: Sim) -> None:
    response = sim.authorize(client_id="who-is-this")
    assert refused_with_spotifys_page(response, "INVALID_CLIENT: Invalid client")


@pytest.mark.parametrize(
    "uri",
    [
        "http://example.com/callback",
        "http://192.168.1.10/cb",
        "ftp://127.0.0.1/cb",
        "not a uri",
        # Registered nowhere: no code for user demo leaves for another site.
        "https://tunedeck.example.org/callback",
        "https://evil.example/v1/connections/spotify/callback",
        # Close to a registered one, but not it.
        "http://localhost:8000/callback",
        "http://127.0.0.1:8000/cb",
        "http://127.0.0.1:8000/callback/",
        "http://127.0.0.1:8000/callback?next=https://evil.example",
        "http://127.0.0.2:8000/callback",
        "https://127.0.0.1:8000/callback",
        "http://user@127.0.0.1:8000/callback",
    ],
)
def test_authorize_refuses_unregistered_redirects(sim: Sim, uri: str) -> None:
    response = sim.authorize(redirect_uri=uri)
    assert refused_with_spotifys_page(response, "INVALID_CLIENT: Invalid redirect URI")
    assert sim.state.tokens.codes == {}


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8000/callback",
        "http://127.0.0.1:54321/callback",
        "http://127.0.0.1/callback",
        "http://[::1]:8000/callback",
        "http://127.0.0.1:8123/v1/connections/spotify/callback",
        "http://[::1]:8123/v1/connections/spotify/callback",
    ],
)
def test_authorize_redirects_to_the_demo_apps_registered_uris(sim: Sim, uri: str) -> None:
    """The demo app registers TuneDeck's callback and ``/callback`` on 127.0.0.1 and
    [::1] without a port: any port goes, as Spotify allows for loopback addresses."""
    assert uri.replace(":8000", "").replace(":8123", "").replace(":54321", "") in (
        LOOPBACK_REDIRECT_URIS
    )
    response = sim.authorize(redirect_uri=uri)
    assert response.status_code == 302
    assert response.headers["location"].startswith(uri + "?")


def test_an_apps_registered_uris_are_matched_exactly() -> None:
    app = AppConfig(
        client_id="bot",
        client_secret="s3cret",
        redirect_uris=["https://deck.example/cb", "http://127.0.0.1:7000/cb"],
    )
    bare = AppConfig(client_id="bare", client_secret="s3cret")
    for started in start(SimulatorConfig(apps=[app, bare])):
        for uri, registered in (
            ("https://deck.example/cb", True),
            ("https://deck.example/cb2", False),
            ("https://deck.example:8443/cb", False),
            ("http://deck.example/cb", False),
            ("http://127.0.0.1:7000/cb", True),
            ("http://127.0.0.1:7001/cb", False),  # registered with a port: that port only
        ):
            response = started.authorize(client_id="bot", redirect_uri=uri)
            assert (response.status_code == 302) is registered, (uri, response.text)
        # An app with no registered URI redirects nowhere.
        response = started.authorize(client_id="bare", redirect_uri="http://127.0.0.1/callback")
        assert refused_with_spotifys_page(response, "INVALID_CLIENT: Invalid redirect URI")


def test_denied_consent_redirects_with_access_denied(sim: Sim) -> None:
    response = sim.authorize(deny="1")
    assert response.status_code == 302
    query = location_query(response.headers["location"])
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz"]
    assert "code" not in query


def test_expired_access_token_gives_401(sim: Sim) -> None:
    tokens = sim.mint("demo", expires_in=60)
    client = sim.api_with(tokens["access_token"])
    assert client.get("/me").status_code == 200
    sim.advance(61)
    response = client.get("/me")
    assert response.status_code == 401
    assert response.json() == {"error": {"status": 401, "message": "The access token expired"}}


def test_expire_endpoint_and_unknown_token(sim: Sim) -> None:
    tokens = sim.mint("demo")
    client = sim.api_with(tokens["access_token"])
    sim.http.post("/_sim/tokens/expire", json={"access_token": tokens["access_token"]})
    assert client.get("/me/player").json()["error"]["message"] == "The access token expired"
    unknown = sim.api_with("garbage").get("/me")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"] == "Invalid access token"
    missing = sim.http.get("/v1/me")
    assert missing.status_code == 401


def test_token_ttl_knob(sim: Sim) -> None:
    sim.knobs(token_ttl_seconds=5)
    tokens = sim.token_basic(
        grant_type="authorization_code", code=sim.code(), redirect_uri=REDIRECT_URI
    ).json()
    assert tokens["expires_in"] == 5
    sim.advance(6)
    assert sim.api_with(tokens["access_token"]).get("/me").status_code == 401
    refreshed = sim.token_basic(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert sim.api_with(refreshed.json()["access_token"]).get("/me").status_code == 200


def test_missing_scope_is_403(sim: Sim) -> None:
    client = sim.api("demo", scope="user-read-email")
    response = client.get("/me/player")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Insufficient client scope"
    assert client.get("/me").status_code == 200
