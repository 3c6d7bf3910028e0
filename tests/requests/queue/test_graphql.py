"""Song requests through ``/graphql`` over the served app, on both databases: the same
operations as REST, refusals as errors whose code is the reason, and the permission
matrix (read / submit / moderate; 401, 403, another account's request not found)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.accounts.conftest import MakeCaller
from tests.requests.queue.conftest import Harness
from tests.requests.queue.support import songs

SUBMIT = """mutation($q: String!, $v: RequestViewerInput) {
  submitRequest(query: $q, viewer: $v) { id state position source viewer { displayName role } }
}"""
QUEUE = "{ requestQueue { open items { id position state track { uri } } } }"
VIEWER = {"platform": "twitch", "id": "9", "login": "zed", "displayName": "Zed"}


async def gql(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", headers=headers, json={"query": query, "variables": variables or {}}
    )
    answer: dict[str, Any] = response.json()
    return answer


def error_code(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"])


async def test_submit_moderate_and_read(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    first, second = songs(harness.sim, 2)
    taken = await gql(client, headers, SUBMIT, {"q": first, "v": VIEWER})
    assert "errors" not in taken, taken
    one = taken["data"]["submitRequest"]
    assert one["state"] == "QUEUED"
    assert one["viewer"]["role"] == "REGULAR"
    mine = (await gql(client, headers, SUBMIT, {"q": second}))["data"]["submitRequest"]
    assert mine["viewer"]["role"] == "BROADCASTER"
    promote = "mutation($id: ID!) { promoteRequest(id: $id) { position } }"
    moved = await gql(client, headers, promote, {"id": mine["id"]})
    assert moved["data"]["promoteRequest"]["position"] == 1
    queue = (await gql(client, headers, QUEUE))["data"]["requestQueue"]
    assert [item["id"] for item in queue["items"]] == [mine["id"], one["id"]]
    remove = "mutation($id: ID!) { removeRequest(id: $id) { state reason } }"
    removed = (await gql(client, headers, remove, {"id": one["id"]}))["data"]["removeRequest"]
    assert removed == {"state": "REMOVED", "reason": "removed"}
    history = await gql(
        client, headers, "{ requestHistory(state: [REMOVED]) { items { id } nextCursor } }"
    )
    assert [i["id"] for i in history["data"]["requestHistory"]["items"]] == [one["id"]]


async def test_refusals_and_invalid_settings_name_what_is_wrong(harness: Harness) -> None:
    client, headers = harness.client, harness.streamer.headers
    refused = await gql(
        client, headers, SUBMIT, {"q": "spotify:album:4aawyAB9vmqN3uQ7FjRGTy", "v": VIEWER}
    )
    assert error_code(refused) == "album_link"
    assert refused["errors"][0]["message"] == "that's an album link — send a track"
    settings = "mutation($s: JSON!) { updateRequestSettings(settings: $s) { version } }"
    bad = await gql(client, headers, settings, {"s": {"duplicate_window_minutes": -5}})
    assert error_code(bad) == "validation_error"
    assert "duplicate_window_minutes" in bad["errors"][0]["message"]
    closed = await gql(client, headers, 'mutation { closeRequests(message: "later") { settings } }')
    assert closed["data"]["closeRequests"]["settings"]["open"] is False
    [link] = songs(harness.sim, 1)
    refused_closed = await gql(client, headers, SUBMIT, {"q": link, "v": VIEWER})
    assert error_code(refused_closed) == "closed"
    assert "later" in refused_closed["errors"][0]["message"]
    history = await gql(client, headers, "{ requestHistory { items { id } } }")
    assert history["data"]["requestHistory"]["items"] == []


async def test_permission_matrix(harness: Harness, make_caller: MakeCaller) -> None:
    client, headers = harness.client, harness.streamer.headers
    [link] = songs(harness.sim, 1)
    taken = (await gql(client, headers, SUBMIT, {"q": link, "v": VIEWER}))["data"]
    request_id = taken["submitRequest"]["id"]
    account = harness.streamer.caller.account
    reader = (await make_caller("requests:read", account=account)).headers
    submitter = (await make_caller("requests:submit", account=account)).headers
    moderator = (await make_caller("requests:moderate", account=account)).headers
    stranger = (await make_caller("requests:read", "requests:moderate")).headers
    approve = "mutation($id: ID!) { rejectRequest(id: $id) { state } }"
    cases: list[tuple[dict[str, str], str, dict[str, Any], str | None]] = [
        (reader, QUEUE, {}, None),
        (submitter, QUEUE, {}, "missing_permission"),
        (moderator, QUEUE, {}, "missing_permission"),
        (reader, SUBMIT, {"q": link, "v": VIEWER}, "missing_permission"),
        (reader, approve, {"id": request_id}, "missing_permission"),
        (submitter, approve, {"id": request_id}, "missing_permission"),
        (stranger, approve, {"id": request_id}, "request_not_found"),
        (
            stranger,
            "query($id: ID!) { songRequest(id: $id) { id } }",
            {"id": request_id},
            "request_not_found",
        ),
        (moderator, approve, {"id": "not-an-id"}, "request_not_found"),
    ]
    for caller, query, variables, code in cases:
        answer = await gql(client, caller, query, variables)
        if code is None:
            assert "errors" not in answer, answer
        else:
            assert error_code(answer) == code, (query, answer)
    theirs = await gql(client, stranger, QUEUE)
    assert theirs["data"]["requestQueue"]["items"] == []
    anonymous = await client.post("/graphql", json={"query": QUEUE})
    assert anonymous.status_code == 401
    rejected = await gql(client, moderator, approve, {"id": request_id})
    assert rejected["data"]["rejectRequest"]["state"] == "REJECTED"
