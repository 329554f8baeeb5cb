"""Bots on a stack, as tests set them up and act as them: ``Scene`` (a customer with Alice
connected and a meeting she hosts, with the bot-create call), meetings on the simulator, a
runtime of a test's own (``run``), and what a bot or a worker does around a bot: its launch spec,
its token calls (``fetch_token``, ``mint_zak``), a held or re-stated bot and an expired access
token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from tests.support.customers import Customer, make_customer
from tests.support.http import http_get
from tests.support.stack import Stack

CREATE = "/api/v1/bots/create_bot"


@dataclass
class Meeting:
    number: str
    passcode: str
    join_url: str


@dataclass
class Scene:
    """A customer with Alice connected and a meeting hosted by Alice on the simulator."""

    customer: Customer
    alice: dict[str, Any]
    meeting: Meeting

    @property
    def api(self) -> httpx.Client:
        return self.customer.api

    @property
    def stack(self) -> Stack:
        return self.customer.stack

    def create_bot(self, **overrides: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "meeting_link": self.meeting.join_url, "bot_name": "Notes", "audio_required": True,
            "video_required": False,
            "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": self.alice["id"]},
        }
        body.update(overrides)
        return self.api.post(CREATE, json=body)

    def hosted_bot(self) -> dict[str, Any]:
        response = self.create_bot()
        assert response.status_code == 201, response.text
        return response.json()


def new_meeting(stack: Stack, host_user_id: str) -> Meeting:
    data = stack.sim._ok(stack.sim.http.post("/_sim/meetings", json={"host_user_id": host_user_id}))
    return Meeting(str(data["meeting_number"]), data["passcode"], data["join_url"])


def run(stack: Stack, work):
    """Run ``work(runtime)`` against the stack's database with a runtime of its own."""
    from obfbroker.runtime import Runtime

    async def go():
        runtime = await Runtime.start(stack.settings)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(go())


def launch_spec(stack: Stack, bot_id: str) -> dict[str, Any]:
    from obfbroker.bots.service import launch_spec as spec

    async def work(runtime):
        async with runtime.sessions() as session:
            return (await spec(session, runtime.hasher, bot_id)).as_dict()

    return run(stack, work)


def expire_stored_access_token(stack: Stack, account_id: str, zoom_user_id: str) -> None:
    """Make our stored copy of the access token look expired (and kill it at Zoom too)."""
    from sqlalchemy import update

    from obfbroker.connections.models import ZoomConnection
    from obfbroker.db.base import utcnow

    async def work(runtime):
        async with runtime.sessions() as session:
            await session.execute(update(ZoomConnection).where(
                ZoomConnection.account_id == account_id, ZoomConnection.zoom_user_id == zoom_user_id,
            ).values(access_token_expires_at=utcnow() - timedelta(minutes=1)))
            await session.commit()

    run(stack, work)
    stack.sim._ok(stack.sim.http.post(f"/_sim/users/{zoom_user_id}/expire-tokens"))


def set_bot_status(stack: Stack, bot_id: str, status: str) -> None:
    from sqlalchemy import update

    from obfbroker.bots.models import Bot

    async def work(runtime):
        async with runtime.sessions() as session:
            await session.execute(update(Bot).where(Bot.id == bot_id).values(status=status))
            await session.commit()

    run(stack, work)


def hold_as_worker(stack: Stack, bot_id: str) -> None:
    """Put the bot where a worker's runner has it: claimed (leased) and joining."""
    from sqlalchemy import update

    from obfbroker.bots.models import Bot
    from obfbroker.db.base import utcnow

    async def work(runtime):
        async with runtime.sessions() as session:
            await session.execute(update(Bot).where(Bot.id == bot_id).values(
                status="joining", lease_owner="test-worker",
                lease_expires_at=utcnow() + timedelta(minutes=5)))
            await session.commit()

    run(stack, work)


def fetch_token(stack: Stack, spec: dict[str, Any], *, kind: str = "obf", meeting_number: str | None = None,
                secret: str | None = None, bot_id: str | None = None,
                base: str | None = None) -> httpx.Response:
    """The bot's token call, to the stack's server or to the ``serve`` process at ``base``."""
    url = spec[f"{kind}_url"].replace(stack.settings.public_url, base or stack.url)
    return http_get(url, params={"meeting_number": meeting_number or spec["meeting_number"]},
                     headers={"X-Bot-Id": bot_id or spec["bot_id"],
                              "X-Webhook-Secret": secret or spec["bot_secret"]}, timeout=30)


def make_scene(stack: Stack) -> Scene:
    """A new customer with Alice connected (metadata tenant_user_id "alice") and a meeting she
    hosts; the caller closes ``scene.api``."""
    customer = make_customer(stack)
    alice = stack.sim.create_user("Alice")
    connected = customer.connect(alice["id"], metadata={"tenant_user_id": "alice"})
    assert connected.status_code == 200, connected.text
    return Scene(customer, alice, new_meeting(stack, alice["id"]))


def mint_zak(customer: Customer, zoom_user_id: str) -> Exception | None:
    """Ask for a ZAK as a bot would (refreshing first if needed); the error, if it failed."""
    from sqlalchemy import select

    from obfbroker.connections.models import ZoomConnection

    async def work(runtime) -> Exception | None:
        async with runtime.sessions() as session:
            connection_id = (await session.execute(select(ZoomConnection.id).where(
                ZoomConnection.account_id == customer.account_id,
                ZoomConnection.zoom_user_id == zoom_user_id))).scalar_one()
        try:
            await runtime.tokens.mint(connection_id, token_type="zak", meeting_id=None)
        except Exception as exc:  # the test inspects what it was
            return exc
        return None

    return run(customer.stack, work)
