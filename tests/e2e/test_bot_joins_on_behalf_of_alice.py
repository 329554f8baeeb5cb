"""The guide's whole story over real HTTP, with serve, worker and the Zoom simulator as separate
processes: Alice connects, a bot is created for her meeting before she joins, waits for her,
joins with a freshly minted OBF token, and is removed when she leaves."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from obfbroker.webhooks.signing import verify
from tests.support.databases import POSTGRES_URL, TEST_KEY, new_postgres_database
from tests.support.http import TLS
from tests.support.processes import free_port, spawn, stop, wait_until_ready
from tests.support.processes import running as running_process
from tests.support.servers import serve_app
from tests.support.sim import REDIRECT_URI, SimControl
from tests.support.stack import Stack
from tests.support.waiting import eventually
from tests.support.webhook_receivers import Receiver

BOT_LEASE_SECONDS = "3"


@dataclass
class Running:
    """serve and zoomsim as processes over one database, with a webhook receiver: started once
    per database for this module (each test brings an account, a Zoom app and users of its own,
    and the simulator is reset before it)."""

    api: str
    sim_url: str
    env: dict[str, str]
    receiver: Receiver
    hooks: str


@dataclass
class World:
    api: str
    sim: SimControl
    env: dict[str, str]
    customer: httpx.Client
    client_id: str
    webhook_secret: str
    receiver: Receiver
    alice: dict
    hook_path: str
    callback_path: str


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, Running]]:
    stacks: dict[str, Running] = {}
    with ExitStack() as running:
        stacks["_exit"] = running  # type: ignore[assignment]
        yield stacks


def _start(backend: str, stacks: dict, templates: dict[str, str], tmp: Path) -> Running:
    if backend in stacks:
        return stacks[backend]
    running: ExitStack = stacks["_exit"]
    if backend == "sqlite":
        shutil.copyfile(templates["sqlite"], tmp / "e2e.db")
        database_url = f"sqlite:///{tmp / 'e2e.db'}"
    else:
        database_url = running.enter_context(new_postgres_database(template=templates["postgresql"]))
    sim_port, api_port = free_port(), free_port()
    sim_url, api_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{api_port}"
    env = {"OBFBROKER_DATABASE_URL": database_url, "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY,
           "OBFBROKER_ZOOM_OAUTH_URL": sim_url, "OBFBROKER_ZOOM_API_URL": f"{sim_url}/v2",
           "OBFBROKER_PUBLIC_URL": api_url, "OBFBROKER_MEETING_ADAPTER": "zoomsim",
           "OBFBROKER_WORKER_POLL_SECONDS": "0.2", "OBFBROKER_BOT_LEASE_SECONDS": BOT_LEASE_SECONDS,
           # Join pacing scaled down (3 s -> 0.2 s, 40-60 s -> 1-1.5 s) so a late user costs seconds.
           "OBFBROKER_JOIN_RETRY_INITIAL_SECONDS": "0.2", "OBFBROKER_JOIN_RETRY_STEADY_MIN_SECONDS": "1",
           "OBFBROKER_JOIN_RETRY_STEADY_MAX_SECONDS": "1.5",
           "OBFBROKER_DATABASE_POOL_SIZE": "5", "OBFBROKER_DATABASE_MAX_OVERFLOW": "15",
           "OBFBROKER_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"}  # the webhook receiver, on loopback
    receiver = Receiver()
    # Both processes start at once (each takes seconds to import), then both are waited for.
    zoomsim = running.enter_context(running_process("zoomsim", "--port", str(sim_port), env=env))
    api = running.enter_context(running_process("serve", "--no-migrate", "--port", str(api_port), env=env))
    hooks = running.enter_context(
        serve_app(Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])))
    receiver.url = hooks
    wait_until_ready(f"{sim_url}/_sim/healthz", zoomsim)
    wait_until_ready(f"{api_url}/readyz", api)
    stacks[backend] = Running(api_url, sim_url, env, receiver, hooks)
    return stacks[backend]


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, started, migrated_templates, tmp_path_factory) -> Iterator[World]:
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set OBFBROKER_TEST_POSTGRES_URL to run this test")
    stack = _start(request.param, started, migrated_templates, tmp_path_factory.mktemp("e2e"))
    sim = SimControl(stack.sim_url, None)
    sim._ok(sim.http.post("/_sim/reset"))  # the simulator's counters are this test's alone
    app = sim.create_app()
    key = _create_account(stack.env)
    customer = httpx.Client(verify=TLS, base_url=stack.api, headers={"Authorization": f"Token {key}"},
                            timeout=30)
    customer.put("/api/v1/zoom/oauth/app", json={"client_id": app.client_id,
                                                 "client_secret": app.client_secret}).raise_for_status()
    tag = secrets.token_hex(4)
    hook_path, callback_path = f"/hooks/{tag}", f"/callback/{tag}"
    secret = customer.put("/api/v1/webhooks", json={"url": stack.hooks + hook_path}).json()["secret"]
    alice = sim.create_user("Alice")
    code = sim.authorize(app, alice["id"], state="alice-internal-uuid")
    customer.post("/api/v1/zoom/oauth/connections", json={
        "code": code, "redirect_uri": REDIRECT_URI, "metadata": {"tenant_user_id": "alice"},
    }).raise_for_status()
    yield World(stack.api, sim, stack.env, customer, app.client_id, secret, stack.receiver, alice,
                hook_path, callback_path)
    customer.close()
    sim.close()


def _create_account(env: dict[str, str]) -> str:
    """A customer account in the stack's database (the CLI's `accounts create` is tested in
    tests/core; here a subprocess would only cost seconds)."""
    from obfbroker.settings import Settings

    settings = Settings(database_url=env["OBFBROKER_DATABASE_URL"], encryption_keys=TEST_KEY)
    return Stack(url="", settings=settings, sim=None).create_account("E2E")[1]


def meeting_for(world: World) -> dict:
    return world.sim._ok(world.sim.http.post("/_sim/meetings", json={"host_user_id": world.alice["id"]}))


def create_bot(world: World, meeting: dict, **extra) -> dict:
    response = world.customer.post("/api/v1/bots/create_bot", json={
        "meeting_link": meeting["join_url"], "bot_name": "Notes",
        "callback_url": world.receiver.url + world.callback_path,
        "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": world.alice["id"]}, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def wait_status(world: World, bot_id: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bot = world.customer.get(f"/api/v1/bots/{bot_id}").json()
        if bot["status"] == status:
            return bot
        assert bot["status"] not in {"ended", "failed"} or status in {"ended", "failed"}, bot
        time.sleep(0.1)
    raise AssertionError(f"bot never reached {status}: {world.customer.get(f'/api/v1/bots/{bot_id}').json()}")


def statuses_received(world: World, bot_id: str) -> list[str]:
    seen = []
    for request in world.receiver.received:
        if request.path != world.hook_path or request.status != 200:
            continue
        body = json.loads(request.body)
        data = body.get("data", body)
        if body.get("type", "bot.status_changed") == "bot.status_changed" and data.get("bot_id") == bot_id:
            seen.append(data["status"])
    return seen


def callbacks_received(world: World, bot_id: str) -> list[dict]:
    """The bodies POSTed to the bot's callback_url, in arrival order (MeetStream's shape)."""
    bodies = [json.loads(r.body) for r in world.receiver.received
              if r.path == world.callback_path and r.status == 200]
    return [b for b in bodies if b.get("bot_id") == bot_id]


def refusals(world: World) -> int:
    """Bot joins the simulator refused because the authorizing user was not in the meeting."""
    return world.sim.stats()["bot_join_refusals_by_error"].get("AUTHORIZED_USER_NOT_INMEETING", 0)


def start_worker(world: World):
    return spawn("worker", "--no-migrate", env=world.env)


def test_bot_waits_for_alice_joins_with_obf_and_leaves_with_her(world: World):
    meeting = meeting_for(world)
    bot = create_bot(world, meeting)
    worker = start_worker(world)
    try:
        wait_status(world, bot["bot_id"], "waiting_for_authorizing_user")
        eventually(lambda: refusals(world) >= 2, "two joins refused while Alice is away", timeout=60)
        assert world.customer.get(f"/api/v1/bots/{bot['bot_id']}").json()["status"] == \
            "waiting_for_authorizing_user"
        world.sim._ok(world.sim.http.post(f"/_sim/meetings/{meeting['meeting_number']}/participants",
                                          json={"user_id": world.alice["id"]}))
        wait_status(world, bot["bot_id"], "in_meeting")
        view = world.sim._ok(world.sim.http.get(f"/_sim/meetings/{meeting['meeting_number']}"))
        (sim_bot,) = [b for b in view["bots"] if b["state"] == "in_meeting"]
        assert sim_bot["on_behalf_of"] == world.alice["id"] and sim_bot["bot_name"] == "Notes"
        stats = world.sim.stats()
        refused = stats["bot_join_refusals_by_error"]["AUTHORIZED_USER_NOT_INMEETING"]
        assert refused >= 2 and stats["bot_joins"] == 1
        assert stats["obf_mints"] == refused + 1, "a freshly minted OBF token for every join attempt"

        world.sim._ok(world.sim.http.delete(
            f"/_sim/meetings/{meeting['meeting_number']}/participants/{world.alice['id']}"))
        ended = wait_status(world, bot["bot_id"], "ended")
        assert ended["reason"] == "authorizing_user_left"
        assert [e["status"] for e in ended["status_history"]] == [
            "queued", "joining", "waiting_for_authorizing_user", "in_meeting", "ended"]
        detail = world.customer.get(f"/api/v1/bots/{bot['bot_id']}/detail").json()
        assert detail["status_history"] == ended["status_history"]
        assert world.customer.get(f"/api/v1/bots/{bot['bot_id']}/status").json() == {
            "bot_id": bot["bot_id"], "status": "ended", "bot_status": "Stopped",
            "reason": "authorizing_user_left"}

        expected = ["queued", "joining", "waiting_for_authorizing_user", "in_meeting", "ended"]
        eventually(lambda: len(statuses_received(world, bot["bot_id"])) >= len(expected),
                   "a webhook for each status", every=0.2)
        assert statuses_received(world, bot["bot_id"]) == expected, "each status as a webhook"
        for request in world.receiver.received:
            if request.path == world.hook_path:
                assert verify(world.webhook_secret, request.headers, request.body, now=time.time())
        expected_callbacks = [("bot.joining", "bot.joining", "Joining"),
                              ("bot.inmeeting", "bot.inmeeting", "InMeeting"),
                              ("bot.stopped", "bot.stopped", "Stopped"), ("bot.done", "bot.done", "Done")]
        eventually(lambda: len(callbacks_received(world, bot["bot_id"])) >= 4, "four callbacks", every=0.2)
        callbacks = callbacks_received(world, bot["bot_id"])
        assert [(c["event"], c["bot_event"], c["bot_status"]) for c in callbacks] == expected_callbacks
        assert [c["status_code"] for c in callbacks] == [200, 200, 200, 200]
        assert callbacks[2]["reason"] == "authorizing_user_left" and callbacks[2]["message"]
    finally:
        stop(worker)


def test_a_disconnected_connection_fails_the_bot_with_a_clear_reason(world: World):
    bot = create_bot(world, meeting_for(world))
    world.customer.delete(f"/api/v1/zoom/oauth/connections/{world.alice['id']}").raise_for_status()
    worker = start_worker(world)
    try:
        failed = wait_status(world, bot["bot_id"], "failed")
        assert failed["reason"] == "connection_disconnected"
    finally:
        stop(worker)


def test_leave_request_takes_the_bot_out(world: World):
    meeting = meeting_for(world)
    world.sim._ok(world.sim.http.post(f"/_sim/meetings/{meeting['meeting_number']}/participants",
                                      json={"user_id": world.alice["id"]}))
    bot = create_bot(world, meeting)
    worker = start_worker(world)
    try:
        wait_status(world, bot["bot_id"], "in_meeting")
        assert world.customer.get(f"/api/v1/bots/{bot['bot_id']}/remove_bot").status_code == 200
        ended = wait_status(world, bot["bot_id"], "ended")
        assert ended["reason"] == "left_by_request"
        assert "leaving" in [e["status"] for e in ended["status_history"]]
    finally:
        stop(worker)
    view = world.sim._ok(world.sim.http.get(f"/_sim/meetings/{meeting['meeting_number']}"))
    assert [b["state"] for b in view["bots"]] == ["left"]


def test_a_worker_killed_mid_join_hands_its_bot_to_another_worker(world: World):
    meeting = meeting_for(world)
    bot = create_bot(world, meeting)
    first = start_worker(world)
    try:
        wait_status(world, bot["bot_id"], "waiting_for_authorizing_user")
    finally:
        stop(first, signal.SIGKILL)
    second = start_worker(world)
    try:
        world.sim._ok(world.sim.http.post(f"/_sim/meetings/{meeting['meeting_number']}/participants",
                                          json={"user_id": world.alice["id"]}))
        wait_status(world, bot["bot_id"], "in_meeting", timeout=60)
        world.sim._ok(world.sim.http.delete(
            f"/_sim/meetings/{meeting['meeting_number']}/participants/{world.alice['id']}"))
        ended = wait_status(world, bot["bot_id"], "ended")
        assert ended["reason"] == "authorizing_user_left"
    finally:
        stop(second)
    view = world.sim._ok(world.sim.http.get(f"/_sim/meetings/{meeting['meeting_number']}"))
    assert [b["state"] for b in view["bots"]] == ["removed"], "one bot in the meeting, not two"

