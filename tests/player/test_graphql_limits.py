"""What a GraphQL document may ask: which operation runs, how deep, how costly.

Refusals are GraphQL errors with ``extensions.code``, decided before any field runs;
GraphiQL's own introspection query stays within the default limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from tests.player.conftest import MakeStreamer, Streamer
from tests.player.doors import GraphQLDoor
from tests.player.support import upstream_requests
from tests.support.simulator import Sim


@pytest.fixture
async def client(make_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its poller: accounts other tests left polled in the shared
    database must not call Spotify while these tests count the calls."""
    async with make_app(poll_in_process=False) as client:
        yield client


async def post(
    client: httpx.AsyncClient, streamer: Streamer, query: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, **extra}, headers=streamer.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refusal(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


TWO = "query A { spotifyManualStatus { active } } mutation B { startSpotifyManual { active } }"


async def test_several_operations_need_an_operation_name(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    body = await post(client, streamer, TWO)
    assert refusal(body) == "graphql_invalid"
    assert "operationName" in body["errors"][0]["message"]
    # Nothing ran: manual polling was not started by the second operation either.
    status = await post(client, streamer, "{ spotifyManualStatus { active } }")
    assert status["data"] == {"spotifyManualStatus": {"active": False}}
    named = await post(client, streamer, TWO, operationName="A")
    assert named == {"data": {"spotifyManualStatus": {"active": False}}}


async def test_an_operation_name_must_name_one(
    client: httpx.AsyncClient, streamer: Streamer
) -> None:
    for document in (TWO, "query A { __typename }", "{ __typename }"):
        body = await post(client, streamer, document, operationName="Z")
        assert refusal(body) == "graphql_invalid"
        assert "'Z'" in body["errors"][0]["message"]
    response = await client.post(
        "/graphql",
        json={"query": "query A { __typename }", "operationName": 5},
        headers=streamer.headers,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "graphql_invalid")


def of_types(depth: int) -> str:
    """The issue's introspection query: ``ofType`` nested until ``depth`` fields deep."""
    inner = "name"
    for _ in range(depth - 5):
        inner = f"ofType {{ {inner} }}"
    return f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"


async def test_depth_covers_introspection(client: httpx.AsyncClient, streamer: Streamer) -> None:
    assert refusal(await post(client, streamer, of_types(45))) == "query_too_deep"
    assert refusal(await post(client, streamer, of_types(21))) == "query_too_deep"
    body = await post(client, streamer, of_types(20))
    assert "errors" not in body, body
    assert body["data"]["__schema"]["types"]


async def test_depth_counts_fragments(client: httpx.AsyncClient, streamer: Streamer) -> None:
    """Fragments nest no less than fields written out."""
    fragments = [f"fragment T{i} on __Type {{ ofType {{ ...T{i + 1} }} }}" for i in range(30)]
    fragments.append("fragment T30 on __Type { name }")
    query = "{ __schema { types { ...T0 } } }\n" + "\n".join(fragments)
    assert refusal(await post(client, streamer, query)) == "query_too_deep"


async def test_graphiql_introspection_passes(client: httpx.AsyncClient, streamer: Streamer) -> None:
    """The query GraphiQL sends (graphql-js's, every option on: the largest), as is."""
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
        type_depth=9,
    )
    body = await post(client, streamer, query, operationName="IntrospectionQuery")
    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_cost_refuses_a_fragment_that_doubles(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    """2**20 fields out of a 21-fragment document: refused, not walked out."""
    fragments = ["fragment F0 on Query { spotifyManualStatus { active } }"]
    fragments += [
        f"fragment F{i} on Query {{ ...F{i - 1} ... on Query {{ ...F{i - 1} }} }}"
        for i in range(1, 21)
    ]
    query = "{ ...F20 }\n" + "\n".join(fragments)
    body = await post(client, streamer, query)
    assert refusal(body) == "query_too_complex"
    assert upstream_requests(sim) == 0


async def test_cost_multiplies_by_list_limits(
    make_app: Any, make_streamer: MakeStreamer, sim: Sim
) -> None:
    owner = await make_streamer()
    fields = "id uri name description public collaborative owner imageUrl trackCount url"
    async with make_app(poll_in_process=False, graphql_max_cost=300) as client:
        graphql = GraphQLDoor(client, owner.headers)
        # 1 + 20 playlists x 10 fields = 201; 1 + 50 x 10 = 501.
        small = await graphql.execute(f"{{ spotifyPlaylists(limit: 20) {{ {fields} }} }}")
        assert "errors" not in small, small
        calls = upstream_requests(sim)
        big = await graphql.execute(
            "query($n: Int) { spotifyPlaylists(limit: $n) { " + fields + " } }", {"n": 50}
        )
        assert refusal(big) == "query_too_complex"
        assert upstream_requests(sim) == calls


async def test_limits_are_settings(make_app: Any, make_streamer: MakeStreamer) -> None:
    owner = await make_streamer(connected=False)
    async with make_app(poll_in_process=False, graphql_max_depth=2) as client:
        graphql = GraphQLDoor(client, owner.headers)
        ok = await graphql.execute("{ spotifyManualStatus { active } }")
        assert ok == {"data": {"spotifyManualStatus": {"active": False}}}
        deep = await graphql.execute("{ spotifyEvents { items { id } } }")
        assert refusal(deep) == "query_too_deep"
