"""The dashboard's queue, search, playlists, devices and activity in Chromium, against
``tunedeck demo``: each click changes the simulator's state (read through its control API)
and the page shows it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.dashboard_support import Api, Sim, sim_has, wait_until

pytestmark = pytest.mark.browser


def playlist_named(sim: Sim, name: str) -> dict[str, Any] | None:
    return next((p for p in sim.playlists() if p["name"] == name and p["in_library"]), None)


def search(page: Page, query: str) -> None:
    page.keyboard.press("/")
    page.locator("#search-input").fill(query)
    expect(page.locator("#search-status")).to_contain_text(f"for “{query}”")


def a_track_name(api: Api, index: int = 3) -> str:
    """The name of a catalog track (one of the demo's Stream Vibes)."""
    playlists = api.request("GET", "/v1/spotify/playlists").json()
    playlist = next(p for p in playlists if p["name"] == "Stream Vibes")
    tracks = api.request("GET", f"/v1/spotify/playlists/{playlist['id']}/tracks").json()
    return str(tracks["items"][index]["track"]["name"])


def test_queue_lists_what_is_next_and_skips_to_a_track(dashboard: Page, dashboard_sim: Sim) -> None:
    sim = dashboard_sim
    rows = dashboard.locator("#queue-list li")
    expect(rows.first).to_be_visible()
    target = rows.nth(2)
    uri = target.get_attribute("data-uri")
    name = target.locator(".track-name").inner_text()
    target.get_by_role("button", name=f"Skip to {name}").click()
    sim_has(sim, "skipped to the queued track", lambda p: p["track_uri"] == uri)
    expect(dashboard.locator("#np-title")).to_have_text(name)

    # Queue the current track again: it shows up in the queue.
    dashboard.get_by_role("button", name="Queue this track again").click()
    sim_has(sim, "the current track queued", lambda p: uri in p["queue"])
    expect(dashboard.locator(f'#queue-list li[data-uri="{uri}"]').first).to_be_visible()


def test_search_plays_queues_and_adds_to_a_playlist(
    dashboard: Page, dashboard_sim: Sim, dashboard_api: Api
) -> None:
    sim = dashboard_sim
    query = a_track_name(dashboard_api)
    search(dashboard, query)
    results = dashboard.locator("#search-results li")
    expect(results.first).to_be_visible()
    first = results.first
    uri = first.get_attribute("data-uri")
    name = first.locator(".track-name").inner_text()

    first.get_by_role("button", name=f"Add {name} to the queue").click()
    sim_has(sim, "the result queued", lambda p: uri in p["queue"])
    expect(dashboard.locator("#toasts")).to_contain_text(f"Added to the queue: {name}")

    first.get_by_role("button", name=f"Add {name} to a playlist").click()
    expect(dashboard.locator("#pick-dialog")).to_be_visible()
    dashboard.locator("#pick-list").get_by_role("button", name="Chill Coding").click()
    wait_until(
        lambda: uri in (playlist_named(sim, "Chill Coding") or {}).get("track_uris", []),
        "the track added to Chill Coding",
    )
    expect(dashboard.locator("#toasts")).to_contain_text("Added to Chill Coding")

    first.get_by_role("button", name=f"Play {name} now").click()
    sim_has(sim, "the result playing", lambda p: p["track_uri"] == uri and p["is_playing"])
    expect(dashboard.locator("#np-title")).to_have_text(name)


def test_search_states_and_superseded_requests_cancelled(
    dashboard: Page, dashboard_sim: Sim
) -> None:
    search(dashboard, "zzqqxxnothing")
    expect(dashboard.locator("#search-status")).to_have_text("No tracks found for “zzqqxxnothing”.")

    dashboard_sim.knobs(latency_ms=1500)
    try:

        def is_search(request: Request) -> bool:
            return "/v1/spotify/search" in request.url and "query=slow&" in request.url

        with dashboard.expect_event("requestfailed", is_search) as failed:
            with dashboard.expect_request(is_search):
                dashboard.locator("#search-input").fill("slow")
            dashboard.locator("#search-input").fill("slower")
        assert failed.value.failure is not None
        expect(dashboard.locator("#search-status")).to_contain_text("for “slower”")
    finally:
        dashboard_sim.knobs(latency_ms=0)

    # Errors are explained, not dumped.
    dashboard_sim.knobs(error_rate=1.0)
    try:
        dashboard.locator("#search-input").fill("broken")
        expect(dashboard.locator("#search-status")).to_contain_text("Search failed:")
        expect(dashboard.locator("#search-status")).not_to_contain_text("{")
    finally:
        dashboard_sim.knobs(error_rate=0.0)


def test_playlists_create_edit_add_remove_play_delete(
    dashboard: Page, dashboard_sim: Sim, dashboard_api: Api
) -> None:
    sim = dashboard_sim
    dashboard.get_by_role("tab", name="Playlists").click()
    expect(dashboard.locator("#playlist-list li").first).to_be_visible()

    # Create: the simulator has it, and the page opens it.
    dashboard.get_by_role("button", name="New playlist").click()
    dashboard.locator("#pl-form-name").fill("Raid Night")
    dashboard.locator("#pl-form-description").fill("For raids")
    dashboard.locator("#playlist-dialog").get_by_role("button", name="Save").click()
    wait_until(lambda: playlist_named(sim, "Raid Night") is not None, "the playlist created")
    expect(dashboard.locator("#pl-name")).to_have_text("Raid Night")
    expect(dashboard.locator("#pl-description")).to_have_text("For raids")

    # Rename and describe.
    dashboard.get_by_role("button", name="Edit").click()
    dashboard.locator("#pl-form-name").fill("Raid Night 2")
    dashboard.locator("#pl-form-description").fill("Louder")
    dashboard.locator("#playlist-dialog").get_by_role("button", name="Save").click()
    wait_until(lambda: playlist_named(sim, "Raid Night 2") is not None, "the playlist renamed")
    assert (playlist_named(sim, "Raid Night 2") or {})["description"] == "Louder"
    expect(dashboard.locator("#pl-name")).to_have_text("Raid Night 2")

    # Add a track from search, then see it in the open playlist.
    query = a_track_name(dashboard_api)
    search(dashboard, query)
    first = dashboard.locator("#search-results li").first
    uri = first.get_attribute("data-uri")
    name = first.locator(".track-name").inner_text()
    first.get_by_role("button", name=f"Add {name} to a playlist").click()
    dashboard.locator("#pick-list").get_by_role("button", name="Raid Night 2").click()
    wait_until(
        lambda: uri in (playlist_named(sim, "Raid Night 2") or {}).get("track_uris", []),
        "the track added",
    )
    dashboard.get_by_role("tab", name="Playlists").click()
    row = dashboard.locator(f'#pl-tracks li[data-uri="{uri}"]')
    expect(row).to_be_visible()

    # Play from that track: the playlist plays, from it.
    row.get_by_role("button", name=f"Play Raid Night 2 from {name}").click()
    playlist_id = (playlist_named(sim, "Raid Night 2") or {})["id"]
    sim_has(
        sim,
        "playing the playlist from the track",
        lambda p: p["context_uri"] == f"spotify:playlist:{playlist_id}" and p["track_uri"] == uri,
    )

    # Remove it.
    row.get_by_role("button", name=f"Remove {name} from Raid Night 2").click()
    wait_until(
        lambda: uri not in (playlist_named(sim, "Raid Night 2") or {}).get("track_uris", [uri]),
        "the track removed",
    )
    expect(row).to_have_count(0)

    # Play the whole playlist from its header (Stream Vibes has tracks).
    dashboard.get_by_role("button", name="← All playlists").click()
    dashboard.locator("#playlist-list").get_by_role("button", name="Stream Vibes").click()
    expect(dashboard.locator("#pl-name")).to_have_text("Stream Vibes")
    dashboard.locator("#pl-play").click()
    vibes = (playlist_named(sim, "Stream Vibes") or {})["id"]
    sim_has(sim, "Stream Vibes playing", lambda p: p["context_uri"] == f"spotify:playlist:{vibes}")

    # Delete, after confirming.
    dashboard.get_by_role("button", name="← All playlists").click()
    dashboard.locator("#playlist-list").get_by_role("button", name="Raid Night 2").click()
    dashboard.get_by_role("button", name="Delete").click()
    expect(dashboard.locator("#confirm-dialog")).to_be_visible()
    dashboard.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    assert playlist_named(sim, "Raid Night 2") is not None
    dashboard.get_by_role("button", name="Delete").click()
    dashboard.locator("#confirm-dialog").get_by_role("button", name="Delete").click()
    wait_until(lambda: playlist_named(sim, "Raid Night 2") is None, "the playlist deleted")
    expect(dashboard.locator("#playlist-list")).not_to_contain_text("Raid Night 2")


def test_devices_transfer_and_play_here(dashboard: Page, dashboard_sim: Sim) -> None:
    sim = dashboard_sim
    dashboard.get_by_role("tab", name="Devices").click()
    devices = dashboard.locator("#device-list li")
    expect(devices).to_have_count(3)
    expect(dashboard.locator("#device-list")).to_contain_text("Smartphone")
    expect(dashboard.locator("#device-list")).to_contain_text("volume 80%")
    expect(dashboard.locator("#device-list")).to_contain_text("restricted")

    phone = dashboard.locator("#device-list li", has_text="Demo Phone")
    phone.get_by_role("button", name="Transfer playback to Demo Phone").click()
    sim_has(sim, "playback on the phone", lambda p: p["device_name"] == "Demo Phone")
    expect(dashboard.locator("#np-device")).to_contain_text("Demo Phone")
    expect(phone).to_have_class("device active")

    # Nothing active: the page says what to do; "play here" starts on an idle device.
    sim.app_action("disconnect")
    expect(dashboard.locator("#np-nodevice")).to_be_visible()
    expect(dashboard.locator("#np-nodevice")).to_contain_text("Open Spotify")
    dashboard.locator("#btn-next").click()
    expect(dashboard.locator("#toasts")).to_contain_text("No Spotify device is active.")
    dashboard.get_by_role("tab", name="Devices").click()
    pc = dashboard.locator("#device-list li", has_text="Streaming PC")
    pc.get_by_role("button", name="Play here on Streaming PC").click()
    sim_has(
        sim,
        "playing on the PC",
        lambda p: p["device_name"] == "Streaming PC" and p["is_playing"],
    )
    expect(dashboard.locator("#np-nodevice")).to_be_hidden()


def test_activity_is_live_filtered_and_paged(dashboard: Page, dashboard_api: Api) -> None:
    # Actions of another client (a bot) appear live.
    bot = dashboard_api.create_key("Mod bot", "spotify:read", "spotify:playback")
    dashboard.get_by_role("tab", name="Activity").click()
    expect(dashboard.locator("#activity-list li").first).to_be_visible()
    for volume in range(30, 60, 1):
        answer = dashboard_api.request(
            "POST",
            "/v1/spotify/playback",
            json={"action": "volume", "volume_percent": volume},
            key=bot["key"],
        )
        assert answer.status_code == 200, answer.text
    expect(dashboard.locator("#activity-list li").first).to_contain_text(
        "Mod bot changed the volume"
    )
    expect(dashboard.locator("#activity-list li").first).to_contain_text("58% → 59%")

    # Filter by who and by type.
    # (Each filter reloads the list from the API: wait for the rows of the new answer.)
    rows = dashboard.locator("#activity-list li")
    dashboard.locator("#activity-actor").select_option(label="Mod bot")
    expect(rows.locator(".what").filter(has_not_text="Mod bot")).to_have_count(0)
    expect(rows.first).to_contain_text("Mod bot")
    dashboard.locator("#activity-actor").select_option(value="")
    dashboard.locator("#activity-type").select_option("spotify:skip")
    expect(dashboard.locator("#activity-list li:not([data-type='spotify:skip'])")).to_have_count(0)
    expect(rows.first).to_contain_text("skipped")

    # Paged back in time.
    dashboard.locator("#activity-type").select_option("")
    expect(dashboard.locator("#activity-more")).to_be_visible()
    count = dashboard.locator("#activity-list li").count()
    dashboard.locator("#activity-more").click()
    wait_until(lambda: dashboard.locator("#activity-list li").count() > count, "older events")
