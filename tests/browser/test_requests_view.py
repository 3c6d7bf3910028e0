"""The dashboard's Requests view, the overlay's requester and the public queue page, in
Chromium against the demo (its simulator's clock moved forward by the tests: a track's
end comes when the test says). What is asserted is what the page shows and what the
server then holds; never how long anything took."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DemoServer, mint_overlay_token, open_overlay
from tests.browser.dashboard_support import Api, Sim, new_context, sign_in, wait_until

ROLE_RULES: dict[str, Any] = {
    "approval_required": False,
    "max_waiting": None,
    "cooldown_seconds": 0,
    "duplicates_allowed": True,
}


def advance(sim: Sim, seconds: float) -> None:
    """Move the simulator's clock forward (the playing track nears its end)."""
    response = httpx.post(sim._url("/clock/advance"), json={"seconds": seconds}, timeout=10)
    response.raise_for_status()


def time_left_s(sim: Sim) -> float:
    playback = sim.playback()
    return (int(playback["duration_ms"]) - int(playback["progress_ms"])) / 1000


def set_rules(api: Api, **regular: Any) -> None:
    """Open, the queue empty, regular viewers with no caps (and ``regular`` on top)."""
    settings = api.request("GET", "/v1/requests/settings").json()["settings"]
    settings["open"] = True
    settings["duplicate_window_minutes"] = 0
    settings["roles"]["regular"] = {**settings["roles"]["regular"], **ROLE_RULES, **regular}
    response = api.request("PUT", "/v1/requests/settings", json=settings)
    assert response.status_code == 200, response.text
    assert api.request("DELETE", "/v1/requests").status_code == 200


def tracks(sim: Sim, count: int, offset: int = 0) -> list[str]:
    """Tracks of the demo's playlists, none of them playing or up next."""
    playback = sim.playback()
    busy = {playback["track_uri"], *playback.get("upcoming", [])}
    uris = [u for p in sim.playlists() for u in p["track_uris"] if u not in busy]
    unique = list(dict.fromkeys(uris))
    return unique[offset : offset + count]


def submit(api: Api, uri: str, name: str, viewer_id: str) -> dict[str, Any]:
    viewer = {"platform": "twitch", "id": viewer_id, "login": viewer_id, "display_name": name}
    response = api.request("POST", "/v1/requests", json={"query": uri, "viewer": viewer})
    assert response.status_code == 201, response.text
    return dict(response.json())


def queue_ids(api: Api) -> list[str]:
    items = api.request("GET", "/v1/requests").json()["items"]
    return [item["id"] for item in items if item["position"] is not None]


def state_of(api: Api, request_id: str) -> str:
    return str(api.request("GET", f"/v1/requests/{request_id}").json()["state"])


def row(page: Page, request_id: str) -> Any:
    return page.locator(f'.req-row[data-id="{request_id}"]')


@pytest.fixture
def requests_tab(dashboard: Page) -> Page:
    """The dashboard on its Requests tab."""
    dashboard.locator("#tab-requests").click()
    expect(dashboard.locator("#req-state")).to_have_text("open")
    return dashboard


def test_a_request_is_approved_plays_with_its_requester_and_ends_played(
    requests_tab: Page,
    dashboard_api: Api,
    dashboard_sim: Sim,
    browser: Browser,
    demo_server: DemoServer,
) -> None:
    page, api, sim = requests_tab, dashboard_api, dashboard_sim
    set_rules(api, approval_required=True)
    (uri,) = tracks(sim, 1, offset=0)
    request = submit(api, uri, "Zoë مريم", "zoe")
    assert request["state"] == "pending"
    name = request["viewer"]["display_name"]

    shown = row(page, request["id"])
    expect(shown).to_have_attribute("data-state", "pending")
    expect(shown.locator(".req-requester")).to_have_text(name)
    shown.get_by_role("button", name="Approve").click()
    expect(shown).to_have_attribute("data-state", "queued")
    assert state_of(api, request["id"]) == "queued"

    # Near the end of the playing track (the demo's clock runs on by itself from there) the
    # request goes to Spotify, a few seconds ahead; then it plays.
    advance(sim, time_left_s(sim) - 12)
    expect(shown).to_have_attribute("data-state", "playing")
    assert sim.playback()["track_uri"] == uri
    expect(shown).to_have_class("req-row state-playing")
    expect(page.locator("#np-requester")).to_be_visible()
    expect(page.locator("#np-requester-name")).to_have_text(name)

    # The overlay names the requester (an option, on by default).
    token = mint_overlay_token(demo_server, "requests overlay")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        overlay = open_overlay(context, token.url)
        overlay.wait_for_item(uri)
        line = overlay.page.locator("#overlay .slot:not(.leaving) .line-requester")
        expect(line).to_be_visible()
        expect(line).to_have_text(f"requested by {name}")
        off = open_overlay(context, token.url, "requester=0")
        off.wait_for_item(uri)
        expect(off.page.locator("#overlay .slot:not(.leaving) .line-requester")).to_be_hidden()
    finally:
        context.close()

    # It plays to its end: played, gone from the queue.
    advance(sim, time_left_s(sim) - 8)
    expect(shown).to_have_count(0)
    wait_until(lambda: state_of(api, request["id"]) == "played", "the request played")


def test_dragging_a_request_reorders_the_queue_on_the_server(
    requests_tab: Page, dashboard_api: Api, dashboard_sim: Sim
) -> None:
    page, api, sim = requests_tab, dashboard_api, dashboard_sim
    set_rules(api)
    uris = tracks(sim, 3, offset=3)
    made = [submit(api, uri, f"Viewer {n}", f"drag{n}") for n, uri in enumerate(uris)]
    for request in made:
        expect(row(page, request["id"])).to_have_attribute("data-state", "queued")
    last = made[2]["id"]

    handle = row(page, last).locator(".req-handle")
    target = row(page, made[0]["id"])
    start, goal = handle.bounding_box(), target.bounding_box()
    assert start is not None
    assert goal is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(goal["x"] + 20, goal["y"] + 4, steps=12)
    page.mouse.up()
    wait_until(lambda: queue_ids(api)[:1] == [last], "the dragged request first on the server")
    assert queue_ids(api) == [last, made[0]["id"], made[1]["id"]]
    expect(page.locator(".req-row").first).to_have_attribute("data-id", last)

    # The keyboard alternative: the move-down button.
    row(page, last).get_by_role("button", name="down").click()
    wait_until(lambda: queue_ids(api)[:2] == [made[0]["id"], last], "moved down one place")


def test_rejecting_with_a_reason_and_banning_a_viewer(
    requests_tab: Page, dashboard_api: Api, dashboard_sim: Sim
) -> None:
    page, api, sim = requests_tab, dashboard_api, dashboard_sim
    set_rules(api)
    first, second, third = tracks(sim, 3, offset=6)
    rejected = submit(api, first, "Rej Viewer", "rej")
    pest = submit(api, second, "Pest", "pest")
    pest_again = submit(api, third, "Pest", "pest")

    row(page, rejected["id"]).get_by_role("button", name="Reject").click()
    page.locator("#ask-input").fill("not on stream, sorry")
    page.locator("#ask-ok").click()
    expect(row(page, rejected["id"])).to_have_count(0)
    answer = api.request("GET", f"/v1/requests/{rejected['id']}").json()
    assert answer["state"] == "rejected"
    assert "not on stream, sorry" in answer["reason_text"]

    row(page, pest["id"]).get_by_role("button", name="Ban").click()
    expect(page.locator("#ask-check")).to_be_checked()
    page.locator("#ask-ok").click()
    expect(row(page, pest["id"])).to_have_count(0)
    expect(row(page, pest_again["id"])).to_have_count(0)
    bans = api.request("GET", "/v1/requests/bans").json()
    assert [(ban["platform"], ban["id"]) for ban in bans] == [("twitch", "pest")]
    assert state_of(api, pest_again["id"]) == "removed"

    page.locator("#req-bans-section summary").click()
    banned = page.locator('.req-ban[data-id="twitch:pest"]')
    expect(banned).to_contain_text("Pest")
    banned.get_by_role("button", name="Unban").click()
    expect(banned).to_have_count(0)
    assert api.request("GET", "/v1/requests/bans").json() == []


def test_a_rule_out_of_range_is_explained_beside_its_field(
    requests_tab: Page, dashboard_api: Api
) -> None:
    page = requests_tab
    set_rules(dashboard_api)
    page.locator("#req-rules-section summary").click()
    field = page.locator("#rule-roles-regular-cooldown_seconds")
    expect(field).to_have_value("0")
    field.fill("100000")
    page.get_by_role("button", name="Save the rules").click()
    expect(page.locator("#rule-roles-regular-cooldown_seconds-error")).to_have_text(
        "At most 86400 seconds."
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    rules = dashboard_api.request("GET", "/v1/requests/settings").json()["settings"]
    assert rules["roles"]["regular"]["cooldown_seconds"] == 0

    field.fill("45")
    page.get_by_role("button", name="Save the rules").click()
    wait_until(
        lambda: (
            dashboard_api.request("GET", "/v1/requests/settings").json()["settings"]["roles"][
                "regular"
            ]["cooldown_seconds"]
            == 45
        ),
        "the rule saved",
    )


# ---- the public queue page ------------------------------------------------------------------


def first_page(origin: str, path: str) -> dict[str, Any]:
    """The first ``queue`` message of the page's feed."""
    with httpx.stream(
        "GET", f"{origin}{path}/live", headers={"Accept": "text/event-stream"}, timeout=15
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("data: "):
                return dict(json.loads(line[6:]))
    raise AssertionError("the feed ended before its first page")


def test_the_public_page_shows_the_queue_live_and_nothing_else(
    browser: Browser, demo_server: DemoServer, dashboard_api: Api, dashboard_sim: Sim
) -> None:
    api, sim = dashboard_api, dashboard_sim
    set_rules(api)
    first, second = tracks(sim, 2, offset=9)
    name = submit(api, first, "Página مريم", "pub1")["viewer"]["display_name"]
    link = api.request("POST", "/v1/queue-page").json()
    path = "/q/" + link["url"].rsplit("/q/", 1)[1]

    context = new_context(browser, demo_server)  # no cookie: only the link
    try:
        page = context.new_page()
        page.goto(path)
        expect(page.locator("#page")).to_have_attribute("data-state", "live")
        expect(page.locator("#coming .who")).to_have_text([f"requested by {name}"])
        submit(api, second, "Second", "pub2")
        expect(page.locator("#coming .who")).to_have_count(2)
        expect(page.locator("#coming .who").nth(1)).to_have_text("requested by Second")

        # The link opens the page and its feed, nothing else.
        for where in ("/v1/requests", "/v1/spotify/state", "/v1/queue-page", "/v1/me"):
            assert page.request.get(where).status == 401, where
        shown = first_page(demo_server.origin, path)
        assert set(shown) == {"type", "open", "closed_message", "playing", "coming", "server_time"}
        assert [set(item) for item in shown["coming"]] == [
            {"position", "track", "requested_by", "eta_ms"}
        ] * 2
        text = json.dumps(shown)
        for secret in (
            "pub1",
            "twitch",
            "spotify:",
            "device",
            "query",
            link["url"].rsplit("/", 1)[1],
        ):
            assert secret not in text, secret
        bearer = {"Authorization": f"Bearer {link['url'].rsplit('/', 1)[1]}"}
        refused = httpx.get(f"{demo_server.origin}/v1/requests", headers=bearer, timeout=10)
        assert refused.status_code == 401

        # Turned off: the open page says so, the link answers 404.
        assert api.request("DELETE", "/v1/queue-page").json() == {
            "enabled": False,
            "url": None,
            "created_at": None,
        }
        expect(page.locator("#page")).to_have_attribute("data-state", "gone")
        assert httpx.get(demo_server.origin + path, timeout=10).status_code == 404
    finally:
        context.close()


def test_the_requests_tab_fits_an_obs_dock(
    browser: Browser, demo_server: DemoServer, dashboard_api: Api, dashboard_sim: Sim
) -> None:
    set_rules(dashboard_api)
    (uri,) = tracks(dashboard_sim, 1, offset=11)
    submit(dashboard_api, uri, "A viewer with a rather long display name indeed", "dock1")
    context = new_context(browser, demo_server, viewport={"width": 420, "height": 760})
    try:
        page = context.new_page()
        sign_in(page, demo_server.admin_key)
        page.locator("#tab-requests").click()
        expect(page.locator(".req-row")).to_have_count(1)
        page.locator("#req-rules-section summary").click()
        page.locator("#req-bots-section summary").click()
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 420
    finally:
        context.close()
