"""The API documentation page renders in Chromium with nothing loaded from another host."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Request, expect

from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser


def test_the_docs_page_renders_from_tunedeck_alone(
    browser: Browser, demo_server: DemoServer, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    refused: list[str] = []

    def seen(request: Request) -> None:
        requested.append(request.url)

    page = context.new_page()
    page.on("request", seen)
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        page.goto(f"{demo_server.origin}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("TuneDeck", timeout=30_000)
        # The operations are listed: the description was fetched and read.
        expect(page.get_by_text("/v1/spotify/playback").first).to_be_attached()
        page.screenshot(path=str(tmp_path / "docs.png"))
    finally:
        context.close()
    elsewhere = [
        url for url in requested if not url.startswith((demo_server.origin, "data:", "blob:"))
    ]
    assert elsewhere == []
    assert any(url.endswith("/openapi.json") for url in requested)
    assert refused == []


def test_redoc_is_not_served(demo_server: DemoServer) -> None:
    """ReDoc's page fetches its logo from redocly's CDN whatever it is told."""
    assert httpx.get(f"{demo_server.origin}/redoc", timeout=10).status_code == 404
