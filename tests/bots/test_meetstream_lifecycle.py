"""What a client written for MeetStream sees of a bot's life, over real HTTP: ``bot_status`` on
every read, and the callback stream (``bot.joining`` ... one ``bot.stopped`` ... ``bot.done``) for
each way a bot's life can end. A worker runs in this process against the API, which runs on
loopback, and the Zoom simulator."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from obfbroker.app import create_app
from obfbroker.webhooks.signing import verify
from tests.bots.conftest import CREATE, Scene, new_meeting
from tests.conftest import Stack, make_settings
from tests.connections.conftest import make_customer
from tests.support.servers import free_port, serve_app
from tests.support.sim import SimControl
from tests.webhooks.conftest import Receiver

WAIT = 60.0


class WorkerThread:
    """``obfbroker worker``'s loops, in a thread of this process."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        from obfbroker.runtime import Runtime
        from obfbroker.worker import Worker

        self.loop, self.stop_event = asyncio.get_running_loop(), asyncio.Event()
        runtime = await Runtime.start(self.settings)
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


def sequence(callbacks: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return [(c["event"], c["bot_event"], c["bot_status"], c["status_code"]) for c in callbacks]


JOINING = ("bot.joining", "bot.joining", "Joining", 200)
IN_MEETING = ("bot.inmeeting", "bot.inmeeting", "InMeeting", 200)
LEAVING = ("bot.leaving", "bot.leaving", "Leaving", 200)
DONE = ("bot.done", "bot.done", "Done", 200)


@pytest.fixture
def life(fresh_database_url: str, sim: SimControl) -> Iterator[Life]:
    port = free_port()
    settings = make_settings(fresh_database_url, sim, public_url=f"http://127.0.0.1:{port}",
                             meeting_adapter="zoomsim", worker_poll_seconds=0.1, bot_lease_seconds=5)
    receiver = Receiver()
    hooks_app = Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])
    with serve_app(create_app(settings), port=port) as url, serve_app(hooks_app) as hooks:
        receiver.url = f"{hooks}/hooks/obf"
        stack = Stack(url=url, settings=settings, sim=sim)
        customer = make_customer(stack)
        secret = customer.api.put("/api/v1/webhooks", json={"url": receiver.url}).json()["secret"]
        alice = sim.create_user("Alice")
        assert customer.connect(alice["id"]).status_code == 200
        with WorkerThread(settings):
            yield Life(customer, alice, new_meeting(stack, alice["id"]), receiver, secret)
        customer.api.close()


def test_waiting_for_alice_is_joining_then_in_meeting_then_stopped_when_she_leaves(life: Life):
    bot = life.start_bot()
    assert bot["bot_status"] == "Joining"
    life.wait_status(bot["bot_id"], "waiting_for_authorizing_user")
    assert life.reads(bot["bot_id"]) == {"Joining"}

    life.alice_joins()
    life.wait_status(bot["bot_id"], "in_meeting")
    assert life.reads(bot["bot_id"]) == {"InMeeting"}

    life.alice_leaves()
    ended = life.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "authorizing_user_left" and ended["bot_status"] == "Stopped"
    assert life.api.get(f"/api/v1/bots/{bot['bot_id']}/status").json() == {
        "bot_id": bot["bot_id"], "status": "ended", "bot_status": "Stopped",
        "reason": "authorizing_user_left"}

    callbacks = life.callbacks(bot["bot_id"])
    assert sequence(callbacks) == [JOINING, IN_MEETING, ("bot.stopped", "bot.stopped", "Stopped", 200), DONE]
    stopped = callbacks[2]
    assert stopped["message"] and stopped["custom_attributes"] == {"tenant": "acme"}
    assert stopped["status"] == "ended" and stopped["reason"] == "authorizing_user_left"
    assert all(c["timestamp"] and c["bot_id"] == bot["bot_id"] for c in callbacks)

    webhooks = life.webhooks(bot["bot_id"])
    changes = [w["data"] for w in webhooks if w["type"] == "bot.status_changed"]
    assert [(c["status"], c["bot_status"]) for c in changes] == [
        ("queued", "Joining"), ("joining", "Joining"), ("waiting_for_authorizing_user", "Joining"),
        ("in_meeting", "InMeeting"), ("ended", "Stopped")]
    assert changes[-1]["event"] == "bot.stopped" and changes[-1]["bot_event"] == "bot.stopped"
    assert webhooks[-1]["type"] == "bot.done" and webhooks[-1]["data"]["bot_status"] == "Done"

    log = life.api.get("/api/v1/webhooks/deliveries", params={"limit": 200}).json()["deliveries"]
    callback_log = [d["event_type"] for d in reversed(log) if d["target"] == "callback_url"]
    assert callback_log == ["bot.joining", "bot.inmeeting", "bot.stopped", "bot.done"]
    assert {d["target"] for d in log} == {"callback_url", "webhook_endpoint"}


def test_removed_by_request_leaves_then_stops(life: Life):
    life.alice_joins()
    bot = life.start_bot()
    life.wait_status(bot["bot_id"], "in_meeting")
    assert life.api.get(f"/api/v1/bots/{bot['bot_id']}/remove_bot").status_code == 200
    ended = life.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "left_by_request" and life.reads(bot["bot_id"]) == {"Stopped"}
    assert sequence(life.callbacks(bot["bot_id"])) == [
        JOINING, IN_MEETING, LEAVING, ("bot.stopped", "bot.stopped", "Stopped", 200), DONE]


def test_removed_by_the_host_is_a_kick(life: Life):
    life.alice_joins()
    bot = life.start_bot()
    life.wait_status(bot["bot_id"], "in_meeting")
    (sim_bot,) = life.sim._ok(life.sim.http.get(f"/_sim/meetings/{life.meeting.number}"))["bots"]
    life.sim._ok(life.sim.http.post(f"/_sim/meetings/{life.meeting.number}/bots/{sim_bot['bot_id']}/remove"))
    ended = life.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "removed" and life.reads(bot["bot_id"]) == {"Stopped"}
    assert sequence(life.callbacks(bot["bot_id"])) == [
        JOINING, IN_MEETING, ("bot.stopped", "bot.kicked", "Stopped", 200), DONE]


def test_an_authorizing_user_who_never_comes_is_not_allowed(life: Life):
    bot = life.start_bot(automatic_leave={"waiting_room_timeout": 1})
    failed = life.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "authorizing_user_never_joined"
    assert life.reads(bot["bot_id"]) == {"NotAllowed"}
    callbacks = life.callbacks(bot["bot_id"])
    assert sequence(callbacks) == [JOINING, ("bot.stopped", "bot.notallowed", "NotAllowed", 500), DONE]
    assert "never joined" in callbacks[1]["message"]


def test_a_failure_is_an_error(life: Life):
    bot = life.start_bot(meeting_link="https://zoom.us/j/99999999999")
    failed = life.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "meeting_not_found" and life.reads(bot["bot_id"]) == {"Error"}
    callbacks = life.callbacks(bot["bot_id"])
    assert sequence(callbacks) == [JOINING, ("bot.stopped", "bot.failed", "Error", 500), DONE]
    assert callbacks[1]["message"] == "Failed: The meeting does not exist"


def test_a_queued_bot_asked_to_leave_stops_without_joining(life: Life):
    bot = life.start_bot(join_at="2099-01-01T00:00:00Z")
    assert life.api.post(f"/api/v1/bots/{bot['bot_id']}/leave").status_code == 202
    assert life.reads(bot["bot_id"]) == {"Stopped"}
    assert sequence(life.callbacks(bot["bot_id"])) == [("bot.stopped", "bot.stopped", "Stopped", 200), DONE]
