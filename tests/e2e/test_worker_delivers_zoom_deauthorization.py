"""Whole stack over real HTTP: Zoom (the simulator) deauthorizes Alice, obfbroker disconnects her
at once, and an `obfbroker worker` process delivers a verifiable `disconnected` webhook to the
customer, even though the customer's endpoint was failing at first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from obfbroker.app import create_app
from obfbroker.lifeline import preexec
from obfbroker.webhooks.signing import verify
from tests.support.customers import make_customer
from tests.support.servers import serve_app
from tests.support.stack import Stack, make_settings
from tests.support.webhook_receivers import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver(script=[503])  # the customer's endpoint is down for the first attempt
    with serve_app(Starlette(routes=[Route("/{path:path}", recv.handle, methods=["POST"])])) as url:
        recv.url = f"{url}/hooks/obf"
        yield recv


@pytest.fixture
def worker_stack(fresh_database_url: str, sim) -> Iterator[Stack]:
    settings = make_settings(fresh_database_url, sim)
    with serve_app(create_app(settings)) as url:
        yield Stack(url=url, settings=settings, sim=sim)


def start_worker(stack: Stack) -> subprocess.Popen:
    s = stack.settings
    env = {**os.environ, "OBFBROKER_DATABASE_URL": s.database_url,
           "OBFBROKER_ENCRYPTION_KEYS": s.encryption_keys, "OBFBROKER_ZOOM_OAUTH_URL": s.zoom_oauth_url,
           "OBFBROKER_ZOOM_API_URL": s.zoom_api_url, "OBFBROKER_PUBLIC_URL": s.public_url,
           "OBFBROKER_WORKER_POLL_SECONDS": "0.2", "OBFBROKER_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
           "OBFBROKER_DATABASE_POOL_SIZE": str(s.database_pool_size),
           "OBFBROKER_DATABASE_MAX_OVERFLOW": str(s.database_max_overflow)}
    return subprocess.Popen([sys.executable, "-m", "obfbroker", "worker", "--no-migrate"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=preexec())


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_deauthorization_reaches_the_customer_as_a_verifiable_webhook(worker_stack: Stack,
                                                                      receiver: Receiver):
    customer = make_customer(worker_stack)
    secret = customer.api.put("/api/v1/webhooks", json={"url": receiver.url}).json()["secret"]
    alice = worker_stack.sim.create_user("Alice")
    customer.connect(alice["id"], metadata={"tenant_user_id": "alice"})
    webhook_url = customer.api.get("/api/v1/zoom/oauth/app").json()["webhook_url"]
    sim = worker_stack.sim
    sim._ok(sim.http.patch(f"/_sim/apps/{customer.app.client_id}", json={
        "webhook_url": webhook_url.replace(worker_stack.settings.public_url, worker_stack.url)}))

    worker = start_worker(worker_stack)
    try:
        result = sim._ok(sim.http.post(f"/_sim/users/{alice['id']}/deauthorize",
                                       json={"client_id": customer.app.client_id}))
        assert result["webhook"]["status_code"] == 200
        state = customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()
        assert state["state"] == "disconnected" and state["disconnected_reason"] == "app_deauthorized"

        def delivered(kind: str) -> list:
            return [r for r in receiver.received if r.status == 200
                    and json.loads(r.body)["type"] == f"zoom_oauth_connection.{kind}"]

        wait_for(lambda: delivered("connected") and delivered("disconnected"))
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.stderr.read().decode()[-2000:]

    failed_first = [r for r in receiver.received if r.status == 503]
    assert failed_first, "the first attempt met the endpoint while it was down"
    (message,) = delivered("disconnected")
    assert verify(secret, message.headers, message.body, now=time.time())
    assert not verify(secret.replace(secret[-4:], "AAAA"), message.headers, message.body, now=time.time())
    event = json.loads(message.body)
    assert event["data"]["zoom_user_id"] == alice["id"]
    assert event["data"]["reason"] == "app_deauthorized"
    assert event["data"]["email"] == alice["email"], "the event carries who it was"
    assert event["data"]["metadata"] == {"tenant_user_id": "alice"}
    deliveries = customer.api.get("/api/v1/webhooks/deliveries").json()["deliveries"]
    assert any(not d["succeeded"] for d in deliveries) and any(d["succeeded"] for d in deliveries)
    after = customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()
    assert after["email"] == "", "identity dropped (user_data_retention false) after the event was written"
