"""The REST doors of song requests over the served app, on both databases: submit and
refusals, moderation (rank, move, promote, ban with removal, settings), history pages,
permissions and other accounts."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.accounts.conftest import MakeCaller
from tests.requests.queue.conftest import Harness
from tests.requests.queue.support import rules, songs

BOT = {"platform": "twitch", "display_name": "Ana", "login": "ana", "id": "1"}


def viewer(name: str, ident: str) -> dict[str, Any]:
    return {"platform": "twitch", "display_name": name.title(), "login": name, "id": ident}


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, who: dict[str, Any] | None
) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if who is not None:
        body["viewer"] = who
    return await client.post("/v1/requests", headers=headers, json=body)


async def test_submit_and_read_the_queue(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    first, second = songs(harness.sim, 2)
    taken = await submit(client, headers, first, viewer("ana", "1"))
    assert taken.status_code == 201, taken.text
    assert taken.json()["state"] == "queued"
    assert taken.json()["source"] == "api"
    mine = await submit(client, headers, second, None)
    assert mine.status_code == 201, mine.text
    assert mine.json()["viewer"]["role"] == "broadcaster"
    queue = (await client.get("/v1/requests", headers=headers)).json()
    assert [item["position"] for item in queue["items"]] == [1, 2]
    assert queue["open"] is True
    one = await client.get(f"/v1/requests/{taken.json()['id']}", headers=headers)
    assert one.json()["track"]["uri"] == taken.json()["track"]["uri"]


async def test_a_refusal_is_a_422_with_the_reason(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    refused = await submit(
        client, headers, "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy", BOT
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "error": {"code": "album_link", "message": "that's an album link — send a track"}
    }
    # Lone surrogates and NUL escaped in the JSON text, as a hostile client sends them.
    raw = json.dumps({"query": "\x00\ud800\u202e<b>" * 2500, "viewer": BOT})
    hostile = await client.post(
        "/v1/requests", headers={**headers, "Content-Type": "application/json"}, content=raw
    )
    # Refused as the body is read: a clear 400, before anything is looked at.
    assert hostile.status_code == 400
    assert "unpaired surrogate" in hostile.json()["error"]["message"]
    long = await submit(client, headers, "\u202e<b>x</b>" * 900, BOT)
    assert long.status_code == 422
    assert long.json()["error"]["code"] == "too_long"
    huge = await submit(client, headers, "x" * 10_001, BOT)
    assert huge.status_code == 422
    assert huge.json()["error"]["message"].startswith("query:")
    history = await client.get("/v1/requests/history", headers=headers)
    assert history.json()["items"] == []


async def test_move_promote_remove_and_reject(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    links = songs(harness.sim, 4)
    ids = []
    for n, link in enumerate(links):
        response = await submit(client, headers, link, viewer(f"v{n}", str(n)))
        ids.append(response.json()["id"])

    async def order() -> list[str]:
        queue = (await client.get("/v1/requests", headers=headers)).json()
        return [item["id"] for item in queue["items"]]

    moved = await client.post(f"/v1/requests/{ids[3]}/move", headers=headers, json={"position": 2})
    assert moved.status_code == 200, moved.text
    assert moved.json()["position"] == 2
    assert await order() == [ids[0], ids[3], ids[1], ids[2]]
    await client.post(f"/v1/requests/{ids[2]}/promote", headers=headers)
    assert await order() == [ids[2], ids[0], ids[3], ids[1]]
    removed = await client.post(f"/v1/requests/{ids[0]}/remove", headers=headers)
    assert removed.json()["state"] == "removed"
    rejected = await client.post(
        f"/v1/requests/{ids[1]}/reject", headers=headers, json={"reason": "not tonight"}
    )
    assert rejected.json()["reason"] == "rejected"
    assert rejected.json()["reason_text"] == "not tonight"
    assert await order() == [ids[2], ids[3]]
    again = await client.post(f"/v1/requests/{ids[1]}/remove", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "request_not_waiting"


async def test_many_moves_keep_an_exact_order(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    links = songs(harness.sim, 5)
    ids = [
        (await submit(client, headers, link, viewer(f"m{n}", f"m{n}"))).json()["id"]
        for n, link in enumerate(links)
    ]
    expected = list(ids)
    # Always between the same two: the gap runs out and the queue is renumbered.
    for _ in range(14):
        last = expected.pop()
        expected.insert(1, last)
        response = await client.post(
            f"/v1/requests/{last}/move", headers=headers, json={"position": 2}
        )
        assert response.status_code == 200, response.text
    queue = (await client.get("/v1/requests", headers=headers)).json()
    assert [item["id"] for item in queue["items"]] == expected


async def test_ban_with_removal_and_unban(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    await client.put("/v1/requests/settings", headers=headers, json=rules(max_waiting=5))
    first, second, third = songs(harness.sim, 3)
    await submit(client, headers, first, viewer("troll", "66"))
    await submit(client, headers, second, viewer("troll", "66"))
    kept = await submit(client, headers, third, viewer("nice", "77"))
    banned = await client.post(
        "/v1/requests/bans", headers=headers, json={"platform": "twitch", "login": "troll"}
    )
    assert banned.status_code == 201, banned.text
    queue = (await client.get("/v1/requests", headers=headers)).json()
    assert [item["id"] for item in queue["items"]] == [kept.json()["id"]]
    refused = await submit(client, headers, first, viewer("troll", "66"))
    assert refused.json()["error"]["code"] == "banned"
    bans = (await client.get("/v1/requests/bans", headers=headers)).json()
    assert [(b["platform"], b["id"]) for b in bans] == [("twitch", "login:troll")]
    lifted = await client.delete(
        "/v1/requests/bans", headers=headers, params={"platform": "twitch", "id": "login:troll"}
    )
    assert lifted.status_code == 204
    again = await client.delete(
        "/v1/requests/bans", headers=headers, params={"platform": "twitch", "id": "login:troll"}
    )
    assert again.status_code == 404


async def test_settings_are_validated_naming_the_field(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    bad = await client.put("/v1/requests/settings", headers=headers, json=rules(max_waiting=-1))
    assert bad.status_code == 422
    assert "roles.regular.max_waiting" in bad.json()["error"]["message"]
    unknown = await client.put("/v1/requests/settings", headers=headers, json={"opne": False})
    assert unknown.status_code == 422
    assert "opne" in unknown.json()["error"]["message"]
    good = await client.put("/v1/requests/settings", headers=headers, json=rules(max_waiting=3))
    assert good.status_code == 200
    read = (await client.get("/v1/requests/settings", headers=headers)).json()
    assert read["settings"]["roles"]["regular"]["max_waiting"] == 3
    closed = await client.post("/v1/requests/close", headers=headers, json={"message": "bbl"})
    assert closed.json()["settings"]["open"] is False
    queue = (await client.get("/v1/requests", headers=headers)).json()
    assert queue["open"] is False
    assert queue["closed_message"] == "bbl"


async def test_clear_and_history_pages(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    links = songs(harness.sim, 3)
    for n, link in enumerate(links):
        await submit(client, headers, link, viewer(f"h{n}", f"h{n}"))
    cleared = await client.delete("/v1/requests", headers=headers)
    assert cleared.json() == {"removed": 3}
    listed = await client.get("/v1/requests/history?limit=2", headers=headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await client.get(
        "/v1/requests/history", headers=headers, params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    assert {item["reason"] for item in page["items"] + rest.json()["items"]} == {"cleared"}
    bad = await client.get("/v1/requests/history?cursor=nope", headers=headers)
    assert bad.status_code == 400


async def test_permissions_and_other_accounts(harness: Harness, make_caller: MakeCaller) -> None:
    client, headers = harness.client, harness.streamer.headers
    [link] = songs(harness.sim, 1)
    taken = (await submit(client, headers, link, BOT)).json()
    account = harness.streamer.caller.account
    reader = await make_caller("requests:read", account=account)
    submitter = await make_caller("requests:submit", account=account)
    stranger = await make_caller("requests:read", "requests:moderate", "requests:submit")
    assert (await client.get("/v1/requests", headers=reader.headers)).status_code == 200
    denied = await client.post(f"/v1/requests/{taken['id']}/remove", headers=reader.headers)
    assert denied.status_code == 403
    assert denied.json()["error"]["details"]["permission"] == "requests:moderate"
    assert (await client.get("/v1/requests", headers=submitter.headers)).status_code == 403
    assert (await client.get("/v1/requests")).status_code == 401
    for path in (f"/v1/requests/{taken['id']}",):
        assert (await client.get(path, headers=stranger.headers)).status_code == 404
    for action in ("approve", "reject", "remove", "promote"):
        response = await client.post(
            f"/v1/requests/{taken['id']}/{action}", headers=stranger.headers
        )
        assert response.status_code == 404, action
    theirs = (await client.get("/v1/requests", headers=stranger.headers)).json()
    assert theirs["items"] == []
