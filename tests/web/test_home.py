"""The home page: where the OAuth callback lands and where a streamer finds the ways in."""

from __future__ import annotations

from pathlib import Path

from tests.support.app import asgi_client
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.crypto import Keyring


async def test_home_page_is_public_html_with_the_ways_in(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'home.db'}",
        encryption_keys=Keyring.generate().serialize(),
        data_dir=tmp_path,
    )
    app = create_app(settings)
    async with asgi_client(app) as client:
        response = await client.get("/", params={"connected": "spotify"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Spotify is connected." in page
    assert 'href="/docs"' in page
    assert 'href="/graphiql"' in page
