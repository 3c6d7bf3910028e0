"""Schemathesis over the player's REST contract (``/openapi.json``) and its GraphQL schema,
with a key holding every permission and with a read-only key: no answer is a 5xx, and
every answer matches the documented statuses and schemas. Bounded: a few dozen
examples per operation, against the simulator, TuneDeck served over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.accounts.conftest import MakeCaller
from tests.player.conftest import MakeStreamer, player_settings
from tests.support.servers import serve_in_thread
from tests.support.simulator import Sim
from tunedeck.app import create_app

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
REST_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def served(database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path) -> Iterator[str]:
    settings = player_settings(database_url, bus_url, sim, tmp_path)
    with serve_in_thread(create_app(settings)) as base:
        yield base


def run_rest(base: str, headers: dict[str, str]) -> list[str]:
    """Every /v1/spotify operation, fuzzed; the failures found, one line each."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    calls: list[str] = []
    operations = 0
    # Every operation of the module, the events listing included.
    player = schema.include(path_regex=r"^/v1/spotify/")
    for result in player.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"operation not readable: {result.err()}")
            continue
        operation = result.ok()
        operations += 1

        @SETTINGS
        @hypothesis.given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=REST_CHECKS)
            calls.append(case.operation.label)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # every operation, not the first only
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    # The twelve of SPEC section 3, six of playlist management and the events listing.
    assert operations == 19
    assert len(calls) >= operations * 5, "the fuzzing hardly ran"
    return failures


def run_graphql(base: str, headers: dict[str, str]) -> list[str]:
    schema = schemathesis.graphql.from_url(f"{base}/graphql", headers=headers)
    failures: list[str] = []
    calls: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"operation not readable: {result.err()}")
            continue
        operation = result.ok()

        @SETTINGS
        @hypothesis.given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=base, headers=headers)
            assert response.status_code < 500, response.text
            body = response.json()
            for error in body.get("errors") or []:
                # Every error speaks our vocabulary, and none is ours (internal).
                assert error["extensions"]["code"] != "internal_error", error
            calls.append(case.operation.label)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    fields = {label.split(".")[-1] for label in calls}
    assert {"spotifyState", "spotifyPlayback", "startSpotifyManual"} <= fields, fields
    assert len(calls) >= 5 * len(fields)
    return failures


@pytest.mark.parametrize("door", ["rest", "graphql"])
async def test_no_server_errors(
    door: str, served: str, make_streamer: MakeStreamer, make_caller: MakeCaller
) -> None:
    owner = await make_streamer()
    reader = await make_caller("spotify:read", account=owner.caller.account)
    run = run_rest if door == "rest" else run_graphql
    for headers in (owner.headers, reader.headers):
        failures = await asyncio.to_thread(run, served, headers)
        assert failures == []
