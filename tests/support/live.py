"""A live bot scene: the API on loopback (its public URL is its own, so bots fetch tokens from
it), a worker running in this process, Alice connected with a meeting on the simulator, and a
receiver for the customer's webhooks and callbacks."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from obfbroker.app import create_app
from obfbroker.clock import Clock
from obfbroker.webhooks.signing import verify
from tests.support.bot_scenes import CREATE, Scene, new_meeting
from tests.support.customers import make_customer
from tests.support.servers import free_port, serve_app
from tests.support.sim import SimControl
from tests.support.stack import Stack, make_settings
from tests.support.webhook_receivers import Receiver

WAIT = 60.0


class WorkerThread:
    """``obfbroker worker``'s loops, in a thread of this process."""

    def __init__(self, settings, clock: Clock | None = None) -> None:
        self.settings, self.clock = settings, clock
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        from obfbroker.runtime import Runtime
        from obfbroker.worker import Worker

        self.loop, self.stop_event = asyncio.get_running_loop(), asyncio.Event()
        runtime = await Runtime.start(self.settings, clock=self.clock)
        self.ready.set()
        try:
            await Worker(runtime).run(self.stop_event)
        finally:
            await runtime.close()

    def __enter__(self) -> WorkerThread:
        self.thread.start()
        assert self.ready.wait(30), "the worker did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=30)


@dataclass
class Life(Scene):
    """The bots' usual scene, with a worker running and a receiver for webhooks and callbacks."""

    receiver: Receiver
    secret: str

    @property
    def sim(self) -> SimControl:
        return self.customer.stack.sim

    def start_bot(self, **extra: Any) -> dict[str, Any]:
        """create_bot with a callback_url on the receiver; the created bot."""
        body = {"meeting_link": self.meeting.join_url, "bot_name": "Notes",
                "callback_url": self.receiver.url.replace("/hooks/obf", "/callback"),
                "custom_attributes": {"tenant": "acme"},
                "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": self.alice["id"]}}
        body.update(extra)
        response = self.api.post(CREATE, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def alice_joins(self) -> None:
        self.sim._ok(self.sim.http.post(f"/_sim/meetings/{self.meeting.number}/participants",
                                        json={"user_id": self.alice["id"]}))

    def alice_leaves(self) -> None:
        self.sim._ok(self.sim.http.delete(
            f"/_sim/meetings/{self.meeting.number}/participants/{self.alice['id']}"))

    def wait_status(self, bot_id: str, status: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            bot = self.api.get(f"/api/v1/bots/{bot_id}").json()
            if bot["status"] == status:
                return bot
            assert bot["status"] not in {"ended", "failed"}, bot
            time.sleep(0.05)
        raise AssertionError(f"the bot never reached {status}")

    def reads(self, bot_id: str) -> set[str]:
        """``bot_status`` as the bot, its detail and its status endpoint say it."""
        return {self.api.get(f"/api/v1/bots/{bot_id}{path}").json()["bot_status"]
                for path in ("", "/detail", "/status")}

    def callbacks(self, bot_id: str) -> list[dict[str, Any]]:
        """The bot's callback bodies, once its final ``bot.done`` has arrived."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            bodies = [json.loads(r.body) for r in list(self.receiver.received) if r.path == "/callback"]
            mine = [b for b in bodies if b["bot_id"] == bot_id]
            if mine and mine[-1]["event"] == "bot.done":
                return mine
            time.sleep(0.05)
        raise AssertionError("bot.done never arrived")

    def webhooks(self, bot_id: str) -> list[dict[str, Any]]:
        hooks = [r for r in list(self.receiver.received) if r.path == "/hooks/obf"]
        for hook in hooks:
            assert verify(self.secret, hook.headers, hook.body, now=time.time())
        bodies = [json.loads(h.body) for h in hooks]
        return [b for b in bodies if b["data"].get("bot_id") == bot_id]


@contextmanager
def live_scene(database_url: str, sim: SimControl, *, clock: Clock | None = None,
               **overrides: Any) -> Iterator[Life]:
    """Everything :class:`Life` needs, with Settings ``overrides`` (e.g. faster join pacing) and
    the worker's ``clock`` (the API's is the wall clock)."""
    port = free_port()
    settings = make_settings(database_url, sim, public_url=f"http://127.0.0.1:{port}",
                             meeting_adapter="zoomsim", worker_poll_seconds=0.1, bot_lease_seconds=5,
                             **overrides)
    receiver = Receiver()
    hooks_app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    with serve_app(create_app(settings), port=port) as url, serve_app(hooks_app) as hooks:
        receiver.url = f"{hooks}/hooks/obf"
        stack = Stack(url=url, settings=settings, sim=sim)
        customer = make_customer(stack)
        secret = customer.api.put("/api/v1/webhooks", json={"url": receiver.url}).json()["secret"]
        alice = sim.create_user("Alice")
        assert customer.connect(alice["id"]).status_code == 200
        with WorkerThread(settings, clock):
            yield Life(customer, alice, new_meeting(stack, alice["id"]), receiver, secret)
        customer.api.close()
