"""The one-time setup link: made only while no account exists, stored as a hash, spent
by the account it creates, refused once used, expired or replaced (each refusal saying
what to do), and never made again once setup is done."""

from __future__ import annotations

from sqlalchemy import select

from tests.setup.conftest import FreshServer
from tests.support.accounts import create_account
from tunedeck.accounts.secrets import hash_secret
from tunedeck.kit.db import utcnow
from tunedeck.setup import service
from tunedeck.setup.models import SetupLink


async def test_the_link_creates_the_account_and_signs_the_browser_in_once(
    fresh: FreshServer,
) -> None:
    first = await service.prepare_link(fresh.units)
    assert first.stage == "open"
    assert first.code is not None
    async with fresh.client() as http:
        assert (await http.get("/v1/setup/status")).json() == {"stage": "open"}
        made = await http.post("/v1/setup/account", json={"code": first.code, "name": "chan"})
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["key"].startswith("tdk_")
        assert body["session"]["me"]["account"]["name"] == "chan"
        assert "admin" in body["session"]["me"]["permissions"]
        assert "tunedeck_session" in made.cookies
        # The session works for the next steps.
        progress = await http.get("/v1/setup")
        assert progress.status_code == 200, progress.text
        assert progress.json()["next_step"] == 2
        again = await http.post("/v1/setup/account", json={"code": first.code, "name": "x"})
        assert again.status_code == 401
        assert again.json()["error"]["code"] == "setup_link_invalid"
        assert "already used" in again.json()["error"]["message"]
        assert (await http.get("/v1/setup/status")).json() == {"stage": "started"}
    async with fresh.units.begin() as work:
        (row,) = (await work.session.scalars(select(SetupLink))).all()
    assert row.code_hash == hash_secret(first.code) != first.code
    assert row.used_at is not None
    # A later start makes no new link while setup is under way.
    assert await service.prepare_link(fresh.units) == service.FirstRun(stage="started")


async def test_an_expired_unknown_or_replaced_link_is_refused_saying_what_to_do(
    fresh: FreshServer,
) -> None:
    old = await service.prepare_link(fresh.units, now=utcnow() - service.LINK_TTL * 2)
    async with fresh.client() as http:
        expired = await http.post("/v1/setup/account", json={"code": old.code, "name": "chan"})
        assert expired.status_code == 401
        assert "expired" in expired.json()["error"]["message"]
        assert "tunedeck serve" in expired.json()["error"]["message"]
        newer = await service.prepare_link(fresh.units)  # a restart: only the newest works
        replaced = await http.post("/v1/setup/account", json={"code": old.code, "name": "c"})
        assert "not valid" in replaced.json()["error"]["message"]
        made = await http.post("/v1/setup/account", json={"code": newer.code, "name": "chan"})
        assert made.status_code == 201, made.text


async def test_bad_names_leave_the_link_usable(fresh: FreshServer) -> None:
    link = await service.prepare_link(fresh.units)
    async with fresh.client() as http:
        bad = await http.post("/v1/setup/account", json={"code": link.code, "name": "no spaces"})
        assert bad.status_code == 422
        made = await http.post("/v1/setup/account", json={"code": link.code, "name": "ok"})
        assert made.status_code == 201, made.text


async def test_done_means_no_link_ever_again(fresh: FreshServer) -> None:
    link = await service.prepare_link(fresh.units)
    async with fresh.client() as http:
        await http.post("/v1/setup/account", json={"code": link.code, "name": "chan"})
        session = (await http.get("/v1/session")).json()
        headers = {"X-CSRF-Token": session["csrf_token"]}
        assert (await http.post("/v1/setup/complete", headers=headers)).status_code == 204
        assert (await http.get("/v1/setup/status")).json() == {"stage": "done"}
        assert (await http.get("/v1/setup")).json()["next_step"] == 5
    assert await service.prepare_link(fresh.units) == service.FirstRun(stage="done")


async def test_accounts_made_by_the_operator_mean_no_setup_link(fresh: FreshServer) -> None:
    await create_account(fresh.units.db, "operators")
    assert await service.prepare_link(fresh.units) == service.FirstRun(stage="operator")
