"""Text from outside (Spotify, a user) on the pages: shown as text, bidi-isolated and kept
inside its box. A key label starting with U+202E (right-to-left override) reverses only
itself in an Activity row, not the rest of the row; a 100-character playlist name with no
space wraps in its heading, whose buttons keep their size; the same label in the overlay
token table of the dashboard and of the builder leaves its row in order. At a desktop
width and in a 420 px OBS dock, where the keyboard shortcuts' help fits too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DemoServer
from tests.browser.dashboard_support import Api, new_context, sign_in

pytestmark = pytest.mark.browser

RLO = "\u202e"
LABEL = f"{RLO}Evil Bot"
LONG_NAME = "W" * 100
WIDTHS = {"desktop": 1280, "dock": 420}
# Where each character of a text node's `part` is drawn ([line top, left]), in the
# order of the string.
CHARACTER_X_JS = """([selector, part]) => {
    for (const node of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
        for (let text = walker.nextNode(); text; text = walker.nextNode()) {
            const at = text.data.indexOf(part);
            if (at < 0) continue;
            const xs = [];
            for (let i = at; i < at + part.length; i++) {
                if (text.data[i] === ' ') continue;
                const range = document.createRange();
                range.setStart(text, i);
                range.setEnd(text, i + 1);
                const rect = range.getBoundingClientRect();
                xs.push([Math.round(rect.top), rect.left]);
            }
            return xs;
        }
    }
    return null;
}"""
# Boxes that overflow the element they are in (their right edge past its right edge).
OVERFLOWING_JS = """(root) => Array.from(root.querySelectorAll('*')).filter(el => {
    const parent = el.parentElement;
    if (!parent || el.offsetParent === null) return false;
    return el.getBoundingClientRect().right > parent.getBoundingClientRect().right + 1
        && getComputedStyle(parent).overflowX === 'visible';
}).map(el => el.tagName + '#' + el.id + '.' + el.className)"""


def in_order(page: Page, selector: str, part: str) -> None:
    xs = page.evaluate(CHARACTER_X_JS, [selector, part])
    assert xs, f"{part!r} not found in {selector}"
    # Line by line, left to right: a string reversed by an override fails this.
    assert xs == sorted(xs), f"{part!r} is not drawn in order: {xs}"


def fits(page: Page, locator: Locator) -> None:
    """Nothing in ``locator`` sticks out of its box, and it has no horizontal overflow."""
    assert locator.evaluate(OVERFLOWING_JS) == []
    assert locator.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], width


@pytest.fixture(scope="module")
def evil_key(dashboard_api: Api) -> Iterator[dict[str, Any]]:
    key = dashboard_api.create_key(LABEL, "spotify:read", "spotify:playback")
    yield key
    dashboard_api.revoke_key(key["id"])


@pytest.fixture(scope="module")
def long_playlist(dashboard_api: Api) -> dict[str, Any]:
    answer = dashboard_api.request(
        "POST", "/v1/spotify/playlists/new", json={"name": LONG_NAME, "public": False}
    )
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


@pytest.fixture(params=list(WIDTHS))
def page(
    request: pytest.FixtureRequest, browser: Browser, demo_server: DemoServer
) -> Iterator[Page]:
    context = new_context(
        browser, demo_server, viewport={"width": WIDTHS[request.param], "height": 800}
    )
    page = context.new_page()
    try:
        sign_in(page, demo_server.admin_key)
        yield page
    finally:
        context.close()


def test_a_right_to_left_override_in_a_label_stays_in_the_label(
    page: Page, dashboard_api: Api, evil_key: dict[str, Any]
) -> None:
    for volume in (30, 31):
        answer = dashboard_api.request(
            "POST",
            "/v1/spotify/playback",
            json={"action": "volume", "volume_percent": volume},
            key=evil_key["key"],
        )
        assert answer.status_code == 200, answer.text
    page.get_by_role("tab", name="Activity").click()
    row = page.locator("#activity-list li", has_text="Evil Bot").first
    expect(row).to_contain_text("changed the volume")
    # The rest of the row is drawn in its own order, after the label.
    in_order(page, "#activity-list li .what", "changed the volume")
    in_order(page, "#activity-list li .what", "30% → 31%")
    label = row.locator("bdi").first.bounding_box()
    verb = page.evaluate(CHARACTER_X_JS, ["#activity-list li .what", "changed"])
    assert label is not None
    assert verb
    line, left = verb[0]
    label_end = (round(label["y"]), label["x"] + label["width"])
    assert (line, left) >= (label_end[0], label_end[1] - 1) or line > label["y"], (label, verb)
    fits(page, page.locator("#panel-activity"))

    # The same label in the overlay token table: its row keeps its columns in order.
    page.get_by_role("tab", name="Admin").click()
    page.locator("#token-label").fill(LABEL)
    page.get_by_role("button", name="Create token").click()
    token_row = page.locator("#token-table tbody tr", has_text="Evil Bot").first
    expect(token_row).to_contain_text("active")
    cells = [c.bounding_box() for c in token_row.locator("td").all()]
    lefts = [c["x"] for c in cells if c is not None]
    assert lefts == sorted(lefts), lefts
    in_order(page, "#token-table tbody tr td.status-cell", "active")


def test_a_long_unbroken_playlist_name_wraps_and_the_buttons_keep_their_size(
    page: Page, long_playlist: dict[str, Any]
) -> None:
    page.get_by_role("tab", name="Playlists").click()
    buttons = ("#pl-play", "#pl-rename", "#pl-delete")

    page.locator("#playlist-list .playlist-card", has_text="Stream Vibes").click()
    expect(page.locator("#pl-name")).to_have_text("Stream Vibes")
    sizes = {b: page.locator(b).bounding_box() for b in buttons}
    page.get_by_role("button", name="← All playlists").click()

    card = page.locator(f'#playlist-list .playlist-card[data-id="{long_playlist["id"]}"]')
    expect(card).to_be_visible()
    fits(page, page.locator("#playlist-list"))
    card.click()
    heading = page.locator("#pl-name")
    expect(heading).to_have_text(LONG_NAME)
    panel = page.locator("#panel-playlists").bounding_box()
    assert panel is not None
    for button in buttons:
        box = page.locator(button).bounding_box()
        before = sizes[button]
        assert box is not None
        assert before is not None
        assert abs(box["width"] - before["width"]) <= 1, (button, before, box)
        assert abs(box["height"] - before["height"]) <= 1, (button, before, box)
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], (button, box, panel)
    title = heading.bounding_box()
    assert title is not None
    assert title["x"] + title["width"] <= panel["x"] + panel["width"], (title, panel)
    assert heading.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    fits(page, page.locator("#panel-playlists"))


def test_the_shortcuts_help_fits(page: Page) -> None:
    page.locator("#np-heading").click()
    page.keyboard.press("?")
    dialog = page.locator("#help-dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box is not None
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= width, box
    assert dialog.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    for cell in dialog.locator("td").all():
        cell_box = cell.bounding_box()
        assert cell_box is not None
        assert cell_box["x"] + cell_box["width"] <= box["x"] + box["width"] + 0.5, cell_box
        assert cell.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
    expect(dialog.get_by_role("button", name="Close")).to_be_in_viewport()


def test_the_builder_keeps_a_token_row_in_order(
    browser: Browser, demo_server: DemoServer, dashboard_api: Api
) -> None:
    dashboard_api.request("POST", "/v1/overlay-tokens", json={"label": LABEL})
    context = new_context(browser, demo_server, viewport={"width": 420, "height": 800})
    page = context.new_page()
    try:
        page.goto("/overlay/builder")
        page.fill("#key", demo_server.admin_key)
        page.click("#signin-form button")
        row = page.locator("#tokens tbody tr", has_text="Evil Bot").first
        expect(row).to_contain_text("active")
        lefts = [c["x"] for c in (td.bounding_box() for td in row.locator("td").all()) if c]
        assert lefts == sorted(lefts), lefts
        in_order(page, "#tokens tbody tr", "active")
    finally:
        context.close()
