"""The history's REST doors on both databases: streams started and stopped, a stream's
plays read, exported and saved as a Spotify playlist (which the simulator then holds),
stats, and the refusals: reversed or unbounded periods, another account's stream,
chapters a one-play stream cannot make, missing permissions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realtime.conftest import connect, new_account, realtime_settings
from tests.support import accounts
from tests.support.app import asgi_client
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.history.models import Play
from tunedeck.kit.db import Database

ALL = ["spotify:read", "spotify:playlist", "streams:manage"]


@asynccontextmanager
async def served(
    database_url: str, bus_url: str | None, tmp: Path, sim: Sim
) -> AsyncIterator[httpx.AsyncClient]:
    # A namespace of its own: sign-ins other tests failed from loopback are not ours.
    namespace = f"history-{uuid.uuid4().hex[:8]}"
    settings = realtime_settings(
        database_url, bus_url, tmp, sim, poll_in_process=False, redis_namespace=namespace
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app, timeout=30) as client:
        yield client


async def key_for(database: Database, account: uuid.UUID, permissions: list[str]) -> dict[str, str]:
    key = await accounts.create_key(database, account, "streamer", permissions)
    return {"Authorization": f"Bearer {key.key}"}


async def add_plays(
    database: Database, account: uuid.UUID, stream: dict[str, Any], uris: list[str]
) -> None:
    """Plays of the stream a minute apart (as the recorder would have written them)."""
    from datetime import datetime

    start = datetime.fromisoformat(stream["started_at"])
    async with database.session() as session:
        for index, uri in enumerate(uris):
            at = start + timedelta(minutes=index)
            session.add(
                Play(
                    id=uuid.uuid4(),
                    started_at=at,
                    account_id=account,
                    item_uri=uri,
                    item_type="track",
                    name=f"Song {index} | ünïcödé 🎧",
                    artists=['Artist, "quoted"'],
                    artist='Artist, "quoted"',
                    album=None,
                    duration_ms=180_000,
                    art_url=None,
                    ended_at=at + timedelta(minutes=1),
                    listened_ms=60_000,
                    end_reason="skipped" if index % 2 else "natural",
                    source="request" if index == 0 else "context",
                    requested_by="viewer" if index == 0 else None,
                    stream_id=uuid.UUID(stream["id"]),
                    offset_ms=index * 60_000,
                )
            )


async def test_streams_exports_playlist_and_stats(
    database: Database, database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> None:
    account = await new_account(database)
    await connect(database, sim, account)
    headers = await key_for(database, account, ALL)
    uris = (
        [t["uri"] for t in sim.api().get("/me/player/recently-played").json().get("items", [])]
        if False
        else []
    )
    catalog = sim.playlists()[0]["track_uris"][:4]
    uris = list(catalog)
    async with served(database_url, bus_url, tmp_path, sim) as client:
        started = await client.post(
            "/v1/streams", json={"title": "Friday | night"}, headers=headers
        )
        assert started.status_code == 201, started.text
        stream = started.json()
        again = await client.post("/v1/streams", headers=headers)
        assert again.status_code == 409
        await add_plays(database, account, stream, uris)

        page = await client.get(
            "/v1/history", params={"stream": stream["id"], "limit": 3}, headers=headers
        )
        assert page.status_code == 200, page.text
        assert [p["item_uri"] for p in page.json()["items"]] == uris[::-1][:3]
        rest = await client.get(
            "/v1/history",
            params={"stream": stream["id"], "cursor": page.json()["next_cursor"]},
            headers=headers,
        )
        assert [p["item_uri"] for p in rest.json()["items"]] == [uris[0]]
        found = await client.get("/v1/history", params={"search": "song 2"}, headers=headers)
        assert [p["item_uri"] for p in found.json()["items"]] == [uris[2]]

        chapters = await client.get(
            f"/v1/streams/{stream['id']}/export", params={"format": "youtube"}, headers=headers
        )
        assert chapters.status_code == 200, chapters.text
        lines = chapters.text.splitlines()
        assert lines[0].startswith("0:00 ")
        assert lines[3].startswith("3:00 ")
        for kind in ("csv", "json", "markdown", "m3u"):
            exported = await client.get(
                f"/v1/streams/{stream['id']}/export", params={"format": kind}, headers=headers
            )
            assert exported.status_code == 200, (kind, exported.text)
            assert "ünïcödé 🎧" in exported.text
            assert "attachment" in exported.headers["content-disposition"]

        saved = await client.post(
            f"/v1/streams/{stream['id']}/playlist", json={"name": "Stream set"}, headers=headers
        )
        assert saved.status_code == 201, saved.text
        held = [p for p in sim.playlists() if p["id"] == saved.json()["playlist_id"]]
        assert len(held) == 1
        assert held[0]["name"] == "Stream set"
        assert held[0]["track_uris"] == uris

        stopped = await client.post(f"/v1/streams/{stream['id']}/stop", headers=headers)
        assert stopped.status_code == 200
        assert stopped.json()["stopped_at"] is not None
        listed = (await client.get("/v1/streams", headers=headers)).json()["items"]
        assert listed[0]["id"] == stream["id"]
        assert listed[0]["plays"] == 4

        stats = await client.get("/v1/stats", params={"stream": stream["id"]}, headers=headers)
        assert stats.status_code == 200, stats.text
        figures = stats.json()
        assert figures["plays"] == 4
        assert figures["listened_ms"] == 240_000
        assert figures["skip_rate"] == {"plays": 4, "skipped": 2, "rate": 0.5}
        assert figures["skip_rate_requests"]["plays"] == 1
        assert figures["top_requesters"][0]["key"] == "viewer"
        assert figures["top_artists"][0]["plays"] == 4
        assert figures["skip_rate_requests"] == {"plays": 1, "skipped": 0, "rate": 0.0}
        assert figures["skip_rate_own"]["skipped"] == 2
        assert figures["end_reasons"] == [
            {"rule": "natural", "count": 2},
            {"rule": "skipped", "count": 2},
        ]
        tracks = figures["top_tracks"]
        assert [t["key"] for t in tracks] == sorted(uris)
        first = next(t for t in tracks if t["key"] == uris[0])
        assert first["label"] == 'Artist, "quoted" - Song 0 | ünïcödé 🎧'
        assert first["heard"] == pytest.approx(1 / 3)  # a minute of three
        assert len(figures["timeline"]) == 4


async def test_bad_input_is_refused_clearly(
    database: Database, database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> None:
    account, other = await new_account(database), await new_account(database)
    headers = await key_for(database, account, ALL)
    theirs = await key_for(database, other, ALL)
    reader = await key_for(database, account, ["spotify:read"])
    async with served(database_url, bus_url, tmp_path, sim) as client:
        stream = (await client.post("/v1/streams", headers=theirs)).json()
        mine = (await client.post("/v1/streams", headers=headers)).json()
        await add_plays(database, account, mine, ["spotify:track:0000000000000000000001"])
        # Their stream has plays: none of them may show through our key.
        await add_plays(database, other, stream, ["spotify:track:0000000000000000000002"])
        for path in (
            f"/v1/streams/{stream['id']}/export?format=csv",
            f"/v1/stats?stream={stream['id']}",
            f"/v1/history?stream={stream['id']}",
        ):
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 404, (path, answer.text)
        assert (
            await client.post(f"/v1/streams/{stream['id']}/stop", headers=headers)
        ).status_code == 404

        one = await client.get(
            f"/v1/streams/{mine['id']}/export", params={"format": "youtube"}, headers=headers
        )
        assert one.status_code == 422
        assert "at least 3" in one.json()["error"]["message"]

        reversed_ = await client.get(
            "/v1/stats",
            params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            headers=headers,
        )
        assert reversed_.status_code == 422
        assert "reversed" in reversed_.json()["error"]["message"]
        unbounded = await client.get(
            "/v1/stats", params={"from": "2026-01-01T00:00:00Z"}, headers=headers
        )
        assert unbounded.status_code == 422
        assert "both from and to" in unbounded.json()["error"]["message"]
        history = await client.get(
            "/v1/history",
            params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            headers=headers,
        )
        assert history.status_code == 422
        bad_cursor = await client.get("/v1/history", params={"cursor": "nope"}, headers=headers)
        assert bad_cursor.status_code == 422

        forbidden = await client.post("/v1/streams", headers=reader)
        assert forbidden.status_code == 403
        assert "streams:manage" in forbidden.json()["error"]["message"]
        no_playlist = await client.post(f"/v1/streams/{mine['id']}/playlist", headers=reader)
        assert no_playlist.status_code == 403


async def test_graphql_serves_the_same_operations(
    database: Database, database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> None:
    account, other = await new_account(database), await new_account(database)
    headers = await key_for(database, account, ALL)
    theirs = await key_for(database, other, ALL)
    reader = await key_for(database, account, ["spotify:read"])

    async def gql(query: str, who: dict[str, str]) -> dict[str, Any]:
        answer = await client.post("/graphql", json={"query": query}, headers=who)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async with served(database_url, bus_url, tmp_path, sim) as client:
        started = await gql(
            'mutation { startStream(title: "Live") { id title stoppedAt } }', headers
        )
        stream = started["data"]["startStream"]
        assert stream["title"] == "Live"
        # A second start while one is live is a conflict, whatever fields are asked for.
        again = await gql('mutation { startStream(title: "") { listenedMs plays } }', headers)
        assert again["errors"][0]["extensions"]["code"] == "stream_live", again
        await add_plays(
            database,
            account,
            {
                "id": stream["id"],
                "started_at": (await client.get("/v1/streams", headers=headers)).json()["items"][0][
                    "started_at"
                ],
            },
            [f"spotify:track:{i:022d}" for i in range(3)],
        )
        fields = "items { name endReason offsetMs } nextCursor"
        page = await gql(
            f'{{ history(stream: "{stream["id"]}", limit: 2) {{ {fields} }} }}', headers
        )
        assert len(page["data"]["history"]["items"]) == 2
        assert page["data"]["history"]["nextCursor"]
        chapters = await gql(
            f'{{ streamExport(id: "{stream["id"]}", format: "youtube") {{ content }} }}', headers
        )
        assert chapters["data"]["streamExport"]["content"].startswith("0:00 ")
        wanted = "plays skipRate { rate } topArtists { label plays }"
        stats = await gql(f'{{ stats(stream: "{stream["id"]}") {{ {wanted} }} }}', headers)
        assert stats["data"]["stats"]["plays"] == 3
        refused = await gql(
            '{ stats(since: "2026-02-01T00:00:00Z", until: "2026-01-01T00:00:00Z") { plays } }',
            headers,
        )
        assert refused["errors"][0]["extensions"]["code"] == "validation_error"
        missing = await gql(
            f'{{ streamExport(id: "{stream["id"]}", format: "csv") {{ content }} }}', theirs
        )
        assert missing["errors"][0]["extensions"]["code"] == "stream_not_found"
        forbidden = await gql(f'mutation {{ stopStream(id: "{stream["id"]}") {{ id }} }}', reader)
        assert forbidden["errors"][0]["extensions"]["code"] == "missing_permission"
        stopped = await gql(
            f'mutation {{ stopStream(id: "{stream["id"]}") {{ stoppedAt }} }}', headers
        )
        assert stopped["data"]["stopStream"]["stoppedAt"] is not None
