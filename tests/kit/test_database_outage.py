"""With its database unreachable, every door answers "try again shortly", never a 500:
REST and SSE 503 with Retry-After, GraphQL the ``service_unavailable`` code, the live
WebSocket a 1013 close. The app itself starts and serves what needs no database. Which
errors mean "unavailable" (try again) and which are bugs (500) is checked apart."""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Iterator

import httpx
import pytest
from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.app import app_settings
from tests.support.servers import free_port, serve_in_thread
from tunedeck.app import create_app
from tunedeck.kit.errors import is_database_unavailable
from tunedeck.player.graphql.errors import format_error

KEY = "tdk_" + "x" * 43  # well formed: only the database can tell it is unknown


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Nothing listens on this port: every connection to PostgreSQL is refused.
    unreachable = f"postgresql://tunedeck@127.0.0.1:{free_port()}/tunedeck"
    settings = app_settings(unreachable, tmp_path_factory.mktemp("outage"))
    with serve_in_thread(create_app(settings)) as base:
        yield base


def test_rest_and_sse_answer_503_with_retry_after(server: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    for path, extra in (("/v1/me", {}), ("/v1/spotify/live", {"Accept": "text/event-stream"})):
        answer = httpx.get(f"{server}{path}", headers={**headers, **extra}, timeout=30)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "2"
        error = answer.json()["error"]
        assert error["code"] == "service_unavailable"
        assert error["details"]["retry_after"] == 2
    assert httpx.get(f"{server}/openapi.json", timeout=30).status_code == 200


def test_graphql_answers_service_unavailable(server: str) -> None:
    # Credentials are checked as over REST, before the operation runs: the same answer.
    answer = httpx.post(
        f"{server}/graphql",
        json={"query": "{ spotifyManualStatus { active } }"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "service_unavailable"


def test_a_resolver_meeting_the_outage_gets_the_code_not_an_internal_error() -> None:
    lost = DBAPIError(
        "SELECT 1", {}, ConnectionResetError("reset by peer"), connection_invalidated=True
    )
    formatted = format_error(GraphQLError("boom", original_error=lost))
    assert formatted["extensions"]["code"] == "service_unavailable"
    assert formatted["extensions"]["details"] == {"retry_after": 2}
    assert "reset by peer" not in formatted["message"]


async def test_the_live_feed_closes_with_try_again_later(server: str) -> None:
    url = server.replace("http://", "ws://") + "/v1/spotify/live"
    async with connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}) as socket:
        with pytest.raises(ConnectionClosed):
            await socket.recv()
    assert socket.close_code == 1013
    assert "reconnect" in (socket.close_reason or "")


def test_the_outage_is_logged_as_such_not_as_a_crash(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tunedeck"):
        answer = httpx.get(f"{server}/v1/me", headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 503
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(KEY not in r.getMessage() for r in caplog.records)


class _PostgresError(Exception):
    """A driver error with its SQLSTATE, as asyncpg (and SQLAlchemy's adapter of it) give."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (SQLAlchemyTimeoutError("QueuePool limit reached"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (socket.gaierror(-2, "Name or service not known"), True),
        (TimeoutError(), True),
        (OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked")), True),
        (
            DBAPIError("SELECT 1", {}, ConnectionResetError(), connection_invalidated=True),
            True,
        ),
        # PostgreSQL restarting: shutting down, starting up, sessions ended by the operator.
        (DBAPIError("SELECT 1", {}, _PostgresError("57P03")), True),
        (DBAPIError("SELECT 1", {}, _PostgresError("57P01")), True),
        (_PostgresError("08006"), True),
        (ProgrammingError("SELECT", {}, _PostgresError("42P01")), False),
        # Bugs, not outages: they stay 500s whatever the backend.
        (OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")), False),
        (
            OperationalError("SELEC", {}, sqlite3.OperationalError('near "SELEC": syntax error')),
            False,
        ),
        (ProgrammingError("SELECT", {}, Exception("relation x does not exist")), False),
        (ValueError("bad"), False),
    ],
)
def test_what_counts_as_the_database_being_unavailable(
    error: BaseException, unavailable: bool
) -> None:
    assert is_database_unavailable(error) is unavailable


def test_the_chat_door_still_answers_a_sentence(server: str) -> None:
    # Chat bots print the body whatever the status: the door answers 200 and a sentence.
    answer = httpx.get(
        f"{server}/v1/chat/sr",
        params={"token": "tdc_" + "x" * 43, "q": "song", "user": "ana"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text == "Song requests aren't working right now — try again in a little while."
