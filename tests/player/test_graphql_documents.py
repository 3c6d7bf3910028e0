"""A GraphQL text sent again is not parsed or validated again (``document_cache``), while
what depends on the request is checked every time; fields resolve on the response
models themselves (``types.mirror``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql import parse

from tests.player.conftest import MakeStreamer
from tests.player.doors import GraphQLDoor
from tests.player.test_graphql_limits import TWO, refusal
from tunedeck.player.graphql.document_cache import MAX_TEXT, KnownDocuments
from tunedeck.player.graphql.types import SpotifyDevice, SpotifyTrack, mirror
from tunedeck.player.schemas import DeviceOut

STATUS = "{ spotifyManualStatus { active } }"
NOT_ACTIVE = {"data": {"spotifyManualStatus": {"active": False}}}


def counted(monkeypatch: pytest.MonkeyPatch, name: str, calls: Counter[str]) -> None:
    """Count the calls of Strawberry's ``parse`` or ``validate_document``."""
    original: Callable[..., Any] = getattr(strawberry_schema, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, name, counting)


async def test_a_text_sent_again_is_not_parsed_or_validated_again(
    make_app: Any, make_streamer: MakeStreamer, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await make_streamer(connected=False)
    calls: Counter[str] = Counter()
    counted(monkeypatch, "parse", calls)
    counted(monkeypatch, "validate_document", calls)
    async with make_app(poll_in_process=False) as client:
        graphql = GraphQLDoor(client, owner.headers)
        for _ in range(3):
            assert await graphql.execute(STATUS) == NOT_ACTIVE
        assert calls == {"parse": 1, "validate_document": 1}
        # Another text is another document.
        assert await graphql.execute(STATUS.replace("{ active }", "{ active expiresAt }"))
        assert calls == {"parse": 2, "validate_document": 2}


async def test_invalid_texts_are_refused_every_time(
    make_app: Any, make_streamer: MakeStreamer, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await make_streamer(connected=False)
    calls: Counter[str] = Counter()
    counted(monkeypatch, "validate_document", calls)
    async with make_app(poll_in_process=False) as client:
        graphql = GraphQLDoor(client, owner.headers)
        for attempt in range(1, 3):
            body = await graphql.execute("{ spotifyManualStatus { nope } }")
            assert refusal(body) == "graphql_invalid"
            assert "nope" in body["errors"][0]["message"]
            assert calls["validate_document"] == attempt  # not kept: validated again


async def test_a_known_text_is_still_measured_with_its_variables(
    make_app: Any, make_streamer: MakeStreamer
) -> None:
    """The cost depends on the variables: each request of one text is measured."""
    owner = await make_streamer(connected=False)
    query = "query($n: Int) { spotifyPlaylists(limit: $n) { id uri name owner url } }"
    async with make_app(poll_in_process=False, graphql_max_cost=200) as client:
        graphql = GraphQLDoor(client, owner.headers)
        # 1 + 20 x 5 = 101 fields: within the limit (the account is not connected).
        small = await graphql.execute(query, {"n": 20})
        assert small["errors"][0]["extensions"]["code"] == "spotify_not_connected", small
        # 1 + 50 x 5 = 251: refused, though the same text passed a moment ago.
        assert refusal(await graphql.execute(query, {"n": 50})) == "query_too_complex"
        again = await graphql.execute(query, {"n": 20})
        assert again["errors"][0]["extensions"]["code"] == "spotify_not_connected", again


async def test_a_known_text_still_needs_its_operation_name(
    make_app: Any, make_streamer: MakeStreamer
) -> None:
    owner = await make_streamer(connected=False)
    async with make_app(poll_in_process=False) as client:

        async def post(**extra: Any) -> Any:
            sent = {"query": TWO, **extra}
            return (await client.post("/graphql", json=sent, headers=owner.headers)).json()

        assert await post(operationName="A") == NOT_ACTIVE
        assert refusal(await post()) == "graphql_invalid"
        assert refusal(await post(operationName="Z")) == "graphql_invalid"
        # Nothing ran: the mutation B did not start manual polling.
        assert await post(operationName="A") == NOT_ACTIVE


def test_known_documents_are_bounded() -> None:
    known = KnownDocuments(size=2)
    keys = [KnownDocuments.key(f"{{ f{n} }}", {}) for n in range(3)]
    first, second, third = (key for key in keys if key is not None)
    documents = [parse(f"{{ f{n} }}") for n in range(3)]
    known.add(first, documents[0])
    known.add(second, documents[1])
    assert known.get(first) is documents[0]  # used: kept over the second
    known.add(third, documents[2])
    assert len(known) == 2
    assert known.get(second) is None
    assert known.get(first) is documents[0]
    assert KnownDocuments.key("{ f }" + " " * MAX_TEXT, {}) is None
    assert KnownDocuments.key("{ f }", {"max_tokens": 5}) != KnownDocuments.key("{ f }", {})


def test_mirror_is_the_model_itself() -> None:
    device = DeviceOut(
        id="d1",
        name="PC",
        type="Computer",
        is_active=True,
        is_restricted=False,
        volume_percent=50,
        supports_volume=True,
    )
    mirrored: object = mirror(SpotifyDevice, device)
    assert mirrored is device
    with pytest.raises(TypeError, match="SpotifyTrack does not mirror DeviceOut"):
        mirror(SpotifyTrack, device)
