"""Playlists: listing, reading, create / rename / unfollow, add and remove items on both paths."""

from __future__ import annotations

import httpx
import pytest

from tests.support.simulator import Sim
from tunedeck.simulator.defaults import (
    CURATOR_LOFI_PLAYLIST_ID,
    CURATOR_TOP_PLAYLIST_ID,
    DEMO_CHILL_PLAYLIST_ID,
    DEMO_HYPE_PLAYLIST_ID,
    DEMO_STREAM_PLAYLIST_ID,
)

ITEM_PATHS = ("items", "tracks")


def test_my_playlists_lists_owned_then_followed_with_paging(sim: Sim, demo: httpx.Client) -> None:
    body = demo.get("/me/playlists").json()
    ids = [item["id"] for item in body["items"]]
    assert ids == [
        DEMO_STREAM_PLAYLIST_ID,
        DEMO_CHILL_PLAYLIST_ID,
        DEMO_HYPE_PLAYLIST_ID,
        CURATOR_TOP_PLAYLIST_ID,
        CURATOR_LOFI_PLAYLIST_ID,
    ]
    assert body["total"] == 5
    assert body["next"] is None
    first = body["items"][0]
    assert first["items"]["total"] == 30
    assert first["tracks"]["total"] == 30
    assert first["owner"]["id"] == "demo"
    assert body["items"][3]["owner"]["id"] == "curator"

    page = demo.get("/me/playlists", params={"limit": 2, "offset": 2}).json()
    assert [item["id"] for item in page["items"]] == ids[2:4]
    assert page["next"].endswith("offset=4&limit=2")
    assert page["previous"].endswith("offset=0&limit=2")
    assert demo.get("/me/playlists", params={"limit": 0}).status_code == 400
    assert demo.get("/me/playlists", params={"limit": 51}).status_code == 400


def test_get_playlist_and_items(sim: Sim, demo: httpx.Client) -> None:
    body = demo.get(f"/playlists/{DEMO_STREAM_PLAYLIST_ID}").json()
    assert body["name"] == "Stream Vibes"
    assert body["followers"]["total"] == 0
    assert len(body["items"]["items"]) == 30
    expected = next(p for p in sim.playlists() if p["id"] == DEMO_STREAM_PLAYLIST_ID)
    assert [entry["item"]["uri"] for entry in body["items"]["items"]] == expected["track_uris"]
    for path in ITEM_PATHS:
        page = demo.get(
            f"/playlists/{DEMO_STREAM_PLAYLIST_ID}/{path}", params={"limit": 10, "offset": 25}
        ).json()
        assert page["total"] == 30
        assert [entry["track"]["uri"] for entry in page["items"]] == expected["track_uris"][25:]
        assert page["next"] is None
        assert f"/playlists/{DEMO_STREAM_PLAYLIST_ID}/{path}?" in page["href"]


def test_unknown_playlist_is_404(demo: httpx.Client) -> None:
    for path in ("", "/items", "/tracks"):
        response = demo.get(f"/playlists/0000000000000000000000{path}")
        assert response.status_code == 404
        assert response.json()["error"]["status"] == 404


@pytest.mark.parametrize("path", ITEM_PATHS)
def test_add_and_remove_items(sim: Sim, demo: httpx.Client, path: str) -> None:
    before = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)
    new = [track.uri for track in sim.state.catalog.tracks[200:203]]
    added = demo.post(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/{path}", json={"uris": new})
    assert added.status_code == 201
    snapshot = added.json()["snapshot_id"]
    assert snapshot != before["snapshot_id"]
    after = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)
    assert after["track_uris"] == before["track_uris"] + new

    at_front = demo.post(
        f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/{path}",
        params={"uris": sim.state.catalog.tracks[300].uri, "position": 0},
    )
    assert at_front.status_code == 201
    assert sim.playlists()[2]["track_uris"][0] == sim.state.catalog.tracks[300].uri

    key = "items" if path == "items" else "tracks"
    removed = demo.request(
        "DELETE",
        f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/{path}",
        json={key: [{"uri": new[0]}, {"uri": new[2]}], "snapshot_id": snapshot},
    )
    assert removed.status_code == 200
    assert removed.json()["snapshot_id"] not in (snapshot, at_front.json()["snapshot_id"])
    final = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    assert new[0] not in final
    assert new[2] not in final
    assert new[1] in final


def test_add_items_validation(sim: Sim, demo: httpx.Client) -> None:
    url = f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items"
    too_many = [track.uri for track in sim.state.catalog.tracks[:101]]
    assert demo.post(url, json={"uris": too_many}).status_code == 400
    assert demo.post(url, json={"uris": ["spotify:track:bad"]}).status_code == 400
    assert (
        demo.post(url, json={"uris": ["spotify:track:0000000000000000000000"]}).status_code == 400
    )
    assert demo.post(url, json={}).status_code == 400
    assert demo.post(url, json={"uris": [too_many[0]], "position": 999}).status_code == 400
    assert demo.request("DELETE", url, json={"items": "x"}).status_code == 400
    exactly_100 = demo.post(url, json={"uris": too_many[:100]})
    assert exactly_100.status_code == 201


def test_cannot_change_a_followed_playlist(sim: Sim, demo: httpx.Client) -> None:
    uri = sim.state.catalog.tracks[0].uri
    followed = f"/playlists/{CURATOR_TOP_PLAYLIST_ID}"
    assert demo.post(f"{followed}/items", json={"uris": [uri]}).status_code == 403
    removal = demo.request("DELETE", f"{followed}/items", json={"items": [{"uri": uri}]})
    assert removal.status_code == 403
    assert demo.put(followed, json={"name": "Mine now"}).status_code == 403
    # Reading is fine.
    assert demo.get(f"{followed}/items").status_code == 200


def test_create_rename_and_unfollow(sim: Sim, demo: httpx.Client) -> None:
    created = demo.post("/me/playlists", json={"name": "Raid Train", "public": False})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Raid Train"
    assert body["public"] is False
    assert body["owner"]["id"] == "demo"
    assert body["items"]["total"] == 0
    assert body["href"].endswith(f"/v1/playlists/{body['id']}")
    playlist_id = body["id"]
    assert demo.get("/me/playlists").json()["items"][0]["id"] == playlist_id

    renamed = demo.put(
        f"/playlists/{playlist_id}", json={"name": "Raid Train 2", "description": "d"}
    )
    assert renamed.status_code == 200
    fetched = demo.get(f"/playlists/{playlist_id}").json()
    assert fetched["name"] == "Raid Train 2"
    assert fetched["description"] == "d"
    assert fetched["snapshot_id"] != body["snapshot_id"]

    gone = demo.delete("/me/library", params={"uris": f"spotify:playlist:{playlist_id}"})
    assert gone.status_code == 200
    ids = [item["id"] for item in demo.get("/me/playlists").json()["items"]]
    assert playlist_id not in ids


def test_unfollow_through_followers_path(sim: Sim, demo: httpx.Client) -> None:
    response = demo.delete(f"/playlists/{CURATOR_LOFI_PLAYLIST_ID}/followers")
    assert response.status_code == 200
    ids = [item["id"] for item in demo.get("/me/playlists").json()["items"]]
    assert CURATOR_LOFI_PLAYLIST_ID not in ids
    assert demo.put(f"/playlists/{CURATOR_LOFI_PLAYLIST_ID}/followers").status_code == 200
    assert demo.get("/me/playlists").json()["items"][0]["id"] == CURATOR_LOFI_PLAYLIST_ID


def test_create_and_library_validation(demo: httpx.Client) -> None:
    assert demo.post("/me/playlists", json={}).status_code == 400
    assert demo.post("/me/playlists", json={"name": 5}).status_code == 400
    json_type = {"Content-Type": "application/json"}
    assert demo.post("/me/playlists", content=b"[1,2]", headers=json_type).status_code == 400
    assert demo.delete("/me/library").status_code == 400
    assert demo.delete("/me/library", params={"uris": "nonsense"}).status_code == 400
    missing = demo.delete("/me/library", params={"uris": "spotify:playlist:0000000000000000000000"})
    assert missing.status_code == 404
    assert (
        demo.put(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}", json={"public": "yes"}).status_code == 400
    )


def test_replace_and_reorder_items(sim: Sim, demo: httpx.Client) -> None:
    url = f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items"
    original = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    moved = demo.put(url, json={"range_start": 0, "insert_before": 3})
    assert moved.status_code == 200
    now = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    assert now[:3] == [original[1], original[2], original[0]]
    replaced = demo.put(url, json={"uris": original[:2]})
    assert replaced.status_code == 200
    now = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    assert now == original[:2]


def test_playlist_context_plays_its_items(sim: Sim, demo: httpx.Client) -> None:
    uris = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    demo.put("/me/player/play", json={"context_uri": f"spotify:playlist:{DEMO_HYPE_PLAYLIST_ID}"})
    assert sim.playback()["track_uri"] == uris[0]
    assert sim.playback()["upcoming"] == uris[1:]


def test_add_items_accepts_a_bare_array_of_uris(sim: Sim, demo: httpx.Client) -> None:
    """Spotify takes ``[uri, ...]`` as the body too; spotipy sends it that way."""
    uris = [track.uri for track in sim.state.catalog.tracks[:2]]
    response = demo.post(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items", json=uris)
    assert response.status_code == 201
    playlist = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)
    assert playlist["track_uris"][-2:] == uris
    assert demo.post(f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items", json=[]).status_code == 400


def test_remove_items_at_positions(sim: Sim, demo: httpx.Client) -> None:
    """A removal names positions holding its uri, or every place the uri is; a bad item
    anywhere in the list refuses the whole removal."""
    url = f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items"
    twice = sim.state.catalog.tracks[400].uri
    assert demo.post(url, json={"uris": [twice], "position": 0}).status_code == 201
    assert demo.post(url, json={"uris": [twice]}).status_code == 201
    original = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    last = len(original) - 1

    def items(*found: dict[str, object]) -> httpx.Response:
        return demo.request("DELETE", url, json={"items": list(found)})

    refusals: list[tuple[list[dict[str, object]], str]] = [
        ([{"uri": twice, "positions": [0]}, {"positions": [1]}], "Invalid items: each needs a uri"),
        ([{"uri": twice, "positions": 0}], "Invalid positions"),
        ([{"uri": twice, "positions": [last + 1]}], "Invalid positions"),
        (
            [{"uri": twice, "positions": [0]}, {"uri": twice, "positions": [1]}],
            f"Could not remove tracks, please check parameters: {twice} at 1",
        ),
    ]

    def message(response: httpx.Response) -> str:
        assert response.status_code == 400
        return str(response.json()["error"]["message"])

    for bad, expected in refusals:
        assert message(items(*bad)) == expected
    unchanged = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)
    assert unchanged["track_uris"] == original

    assert items({"uri": twice, "positions": [last]}).status_code == 200
    now = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    assert now == original[:-1]
    assert items({"uri": twice}).status_code == 200
    now = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    assert now == original[1:-1]


def test_move_a_range_of_items(sim: Sim, demo: httpx.Client) -> None:
    url = f"/playlists/{DEMO_HYPE_PLAYLIST_ID}/items"
    original = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    assert demo.put(url, json={"range_start": 0}).status_code == 400
    assert demo.put(url, json={"range_start": 0, "insert_before": 99}).status_code == 400
    moved = demo.put(url, json={"range_start": 5, "range_length": 2, "insert_before": 1})
    assert moved.status_code == 200
    now = next(p for p in sim.playlists() if p["id"] == DEMO_HYPE_PLAYLIST_ID)["track_uris"]
    assert now == [original[0], *original[5:7], *original[1:5], *original[7:]]
