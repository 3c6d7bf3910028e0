"""Who may do what on the dashboard, in Chromium against ``tunedeck demo``: controls a key
may not use are disabled and say why; CSRF (another site's form, a script without the
token) is refused; revoking a key signs its sessions out live; the admin's keys, overlay
tokens and Spotify connection; Spotify's errors in words, the page keeping the true state;
and axe-core's accessibility check in both themes, desktop and a 360 px phone (where
nothing may run off the side of the screen)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DemoServer
from tests.browser.dashboard_support import Api, Sim, new_context, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TABS = [
    "queue",
    "search",
    "playlists",
    "devices",
    "activity",
    "history",
    "stats",
    "connection",
    "admin",
]


def test_a_key_without_playback_sees_disabled_controls(
    browser: Browser, demo_server: DemoServer, dashboard_sim: Sim, dashboard_api: Api
) -> None:
    key = dashboard_api.create_key("Viewer", "spotify:read")
    context = new_context(browser, demo_server)
    page = context.new_page()
    try:
        sign_in(page, key["key"])
        expect(page.locator("#np-title")).not_to_have_text("Nothing playing")
        for control in (
            "#btn-play",
            "#btn-next",
            "#btn-prev",
            "#btn-shuffle",
            "#btn-repeat",
            "#seek",
        ):
            expect(page.locator(control)).to_have_attribute("aria-disabled", "true")
            expect(page.locator(control)).to_have_attribute(
                "title", "Needs the spotify:playback permission"
            )
        expect(page.locator("#volume")).to_be_disabled()
        expect(page.locator("#queue-add-current")).to_have_attribute(
            "title", "Needs the spotify:queue permission"
        )

        # Clicking explains instead of acting; Spotify is not asked.
        playing = dashboard_sim.playback()["is_playing"]
        page.locator("#btn-play").click(force=True)  # a person can click it anyway
        expect(page.locator("#toasts")).to_contain_text("Needs the spotify:playback permission")
        page.locator("#np-heading").click()
        page.keyboard.press("Space")
        assert dashboard_sim.playback()["is_playing"] is playing

        # Rows say so too; reading still works.
        skip = page.locator("#queue-list li").first.get_by_role("button")
        expect(skip).to_have_attribute("aria-disabled", "true")
        page.keyboard.press("/")
        page.locator("#search-input").fill("a")
        result = page.locator("#search-results li").first
        expect(result).to_be_visible()
        for permission, name in [
            ("spotify:playback", "Play"),
            ("spotify:queue", "Add"),
            ("spotify:playlist", "Add"),
        ]:
            button = result.locator(f'button[title="Needs the {permission} permission"]')
            expect(button).to_have_count(1)
            assert (button.get_attribute("aria-label") or "").startswith(name)
        page.get_by_role("tab", name="Admin").click()
        expect(page.get_by_role("button", name="Create key")).to_have_attribute(
            "title", "Needs the admin permission"
        )
        expect(page.locator("#key-table")).to_contain_text("needs the admin permission")
        page.get_by_role("tab", name="Devices").click()
        expect(page.locator("#device-list li").first).to_be_visible()
        expect(page.get_by_role("button", name="Play here on Streaming PC")).to_have_attribute(
            "title", "Needs the spotify:device permission"
        )
    finally:
        context.close()


def test_csrf_another_sites_form_and_a_tokenless_script_are_refused(
    browser: Browser, demo_server: DemoServer, dashboard_sim: Sim
) -> None:
    context = new_context(browser, demo_server)
    page = context.new_page()
    try:
        sign_in(page, demo_server.admin_key)
        if not dashboard_sim.playback()["is_playing"]:
            dashboard_sim.app_action("play")
        # A page of another site posts a form to TuneDeck with the browser's cookies.
        evil = (
            "<!doctype html><title>free skins</title>"
            '<form id=f method=post enctype="text/plain" '
            f'action="{demo_server.origin}/v1/spotify/playback">'
            '<input name=\'{"action":"pause","x":"\' value=\'"}\'></form>'
            "<script>document.getElementById('f').submit()</script>"
        )
        context.route(
            "http://evil.example/**",
            lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
        )
        with page.expect_response(f"{demo_server.origin}/v1/spotify/playback") as answer:
            page.goto("http://evil.example/")
        assert answer.value.status in (401, 403)
        assert dashboard_sim.playback()["is_playing"] is True

        # Even from TuneDeck's own origin, a request with the cookie but no token is refused.
        page.goto("/")
        expect(page.locator("#app")).to_be_visible()
        refused = page.evaluate(
            """async () => {
                const r = await fetch('/v1/spotify/playback', {method: 'POST',
                    headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({action: 'pause'})});
                return [r.status, await r.json()];
            }"""
        )
        assert refused[0] == 403
        assert refused[1]["error"]["code"] == "csrf_failed"
        assert dashboard_sim.playback()["is_playing"] is True
    finally:
        context.close()


def test_revoking_a_key_signs_its_sessions_out(
    browser: Browser, demo_server: DemoServer, dashboard: Page, dashboard_api: Api
) -> None:
    key = dashboard_api.create_key("Guest mod", "spotify:read", "spotify:playback")
    context = new_context(browser, demo_server)
    guest = context.new_page()
    try:
        sign_in(guest, key["key"])
        expect(guest.locator("#link-status")).to_have_text("live")

        dashboard.get_by_role("tab", name="Admin").click()
        row = dashboard.locator(f'#key-table tr[data-id="{key["id"]}"]')
        row.get_by_role("button", name="Revoke Guest mod").click()
        dashboard.locator("#confirm-dialog").get_by_role("button", name="Revoke").click()
        expect(row).to_have_class("revoked")

        # The guest's page learns it from its live feed, without doing anything.
        expect(guest.locator("#signin")).to_be_visible()
        expect(guest.locator("#signin-error")).to_contain_text("session has ended")
        guest.reload()
        expect(guest.locator("#signin")).to_be_visible()
    finally:
        context.close()


def test_admin_creates_and_revokes_keys_and_overlay_tokens(
    dashboard: Page, dashboard_api: Api
) -> None:
    dashboard.get_by_role("tab", name="Admin").click()
    dashboard.locator("#key-label").fill("Chat bot")
    dashboard.locator("#perm-spotify-queue").check()
    dashboard.get_by_role("button", name="Create key").click()
    secret_box = dashboard.locator("#key-secret")
    expect(secret_box).to_contain_text("shown this once")
    secret = secret_box.locator("code").inner_text()
    assert secret.startswith("tdk_")
    me = dashboard_api.request("GET", "/v1/me", key=secret).json()
    assert me["label"] == "Chat bot"
    assert {"spotify:read", "spotify:queue"} <= set(me["permissions"])
    assert "spotify:playback" not in me["permissions"]
    row = dashboard.locator(f'#key-table tr[data-id="{me["key_id"]}"]')
    expect(row).to_contain_text("Chat bot")
    expect(row).not_to_contain_text(secret)

    row.get_by_role("button", name="Revoke Chat bot").click()
    dashboard.locator("#confirm-dialog").get_by_role("button", name="Revoke").click()
    expect(row).to_have_class("revoked")
    assert dashboard_api.request("GET", "/v1/me", key=secret).status_code == 401

    dashboard.locator("#token-label").fill("OBS main")
    dashboard.get_by_role("button", name="Create token").click()
    token_box = dashboard.locator("#token-secret")
    expect(token_box).to_contain_text("/overlay")
    token = token_box.locator("code").first.inner_text()
    listed = dashboard_api.request("GET", "/v1/overlay-tokens").json()
    created = next(t for t in listed if t["label"] == "OBS main")
    assert token.startswith(created["prefix"])
    token_row = dashboard.locator(f'#token-table tr[data-id="{created["id"]}"]')
    token_row.get_by_role("button", name="Revoke OBS main").click()
    dashboard.locator("#confirm-dialog").get_by_role("button", name="Revoke").click()
    expect(token_row).to_have_class("revoked")
    listed = dashboard_api.request("GET", "/v1/overlay-tokens").json()
    assert next(t for t in listed if t["id"] == created["id"])["revoked_at"] is not None

    # Shown once: a reload does not show the secrets again.
    dashboard.reload()
    dashboard.get_by_role("tab", name="Admin").click()
    expect(dashboard.locator("#key-secret")).to_be_hidden()
    expect(dashboard.locator("#key-table")).not_to_contain_text(secret)


def test_connection_manual_connect_credentials_and_reconnect(
    dashboard: Page, dashboard_api: Api
) -> None:
    dashboard.get_by_role("tab", name="Connection").click()
    details = dashboard.locator("#conn-details")
    expect(details).to_contain_text("Connected")
    expect(details).to_contain_text("user-modify-playback-state")

    dashboard.get_by_role("button", name="Start manual connect (30 min)").click()
    status = dashboard.locator("#manual-status")
    expect(status).to_contain_text(re.compile(r"polling for (30:00|29:\d\d) more"))
    assert dashboard_api.request("GET", "/v1/spotify/manual-connect").json()["active"] is True
    first = status.inner_text()
    expect(status).not_to_have_text(first)  # the countdown runs
    dashboard.get_by_role("button", name="Stop", exact=True).click()
    expect(status).to_contain_text("Manual connect is off")
    assert dashboard_api.request("GET", "/v1/spotify/manual-connect").json()["active"] is False

    dashboard.locator("#app-client-id").fill("tunedeck-demo")
    dashboard.locator("#app-client-secret").fill("tunedeck-demo-secret")
    dashboard.get_by_role("button", name="Save credentials").click()
    expect(dashboard.locator("#toasts")).to_contain_text("Spotify app saved")
    # The redirect URI to register is shown beside the form, to copy.
    expect(dashboard.locator("#conn-redirect-uri")).to_have_value(
        re.compile(r"^http://127\.0\.0\.1:\d+/v1/connections/spotify/callback$")
    )
    expect(dashboard.locator("#app-client-secret")).to_have_value("")

    # Reconnect runs the OAuth flow and lands back on the dashboard, still signed in.
    dashboard.get_by_role("button", name="Reconnect Spotify").click()
    expect(dashboard.locator("#notice")).to_have_text("Spotify is connected.")
    expect(dashboard.locator("#app")).to_be_visible()
    connection = dashboard_api.request("GET", "/v1/connections/spotify").json()
    assert connection["connected"] is True


def test_spotify_errors_are_explained_and_the_page_keeps_the_truth(
    dashboard: Page, dashboard_sim: Sim
) -> None:
    if not dashboard_sim.playback()["is_playing"]:
        dashboard_sim.app_action("play")
    expect(dashboard.locator("#btn-play")).to_have_attribute("aria-label", "Pause")
    dashboard_sim.knobs(quota_exceeded=True)
    try:
        dashboard.locator("#btn-play").click()
        toast = dashboard.locator("#toasts .toast.error").last
        expect(toast).to_contain_text("Spotify is rate limiting TuneDeck.")
        expect(toast).to_contain_text(re.compile(r"Try again in \d+ (s|min|h)"))
        expect(toast).not_to_contain_text("{")
        # The pause did not happen: the page says it still plays.
        expect(dashboard.locator("#btn-play")).to_have_attribute("aria-label", "Pause")
        assert dashboard_sim.playback()["is_playing"] is True
    finally:
        dashboard_sim.knobs(quota_exceeded=False)

    dashboard_sim.knobs(error_rate=1.0)
    try:
        volume = dashboard.locator("#volume").input_value()
        dashboard.locator("#volume").fill("3")
        expect(dashboard.locator("#toasts .toast.error").last).to_contain_text("Spotify")
        expect(dashboard.locator("#volume")).to_have_value(volume)
    finally:
        dashboard_sim.knobs(error_rate=0.0)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("viewport", [(1440, 900), (360, 740)], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations(
    browser: Browser, demo_server: DemoServer, theme: str, viewport: tuple[int, int]
) -> None:
    # axe is injected as an inline script, which the page's CSP rightly refuses.
    context = new_context(
        browser,
        demo_server,
        viewport={"width": viewport[0], "height": viewport[1]},
        bypass_csp=True,
    )
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.locator("#signin")).to_be_visible()
        found: dict[str, list[dict[str, Any]]] = {"sign-in": axe_violations(page)}
        sign_in(page, demo_server.admin_key)
        if theme == "light":
            page.locator("#theme-toggle").click()
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
        for tab in TABS:
            page.locator(f"#tab-{tab}").click()
            expect(page.locator(f"#panel-{tab}")).to_be_visible()
            if tab == "search":
                page.locator("#search-input").fill("a")
                expect(page.locator("#search-results li").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            found[tab] = axe_violations(page)
            # Nothing runs off the side of the screen (tables scroll inside their box).
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= viewport[0], f"{tab}: {width} px wide in a {viewport[0]} px window"
        serious = {
            where: [v for v in violations if v["impact"] in ("serious", "critical")]
            for where, violations in found.items()
        }
        assert not any(serious.values()), json.dumps(serious, indent=1)
    finally:
        context.close()
