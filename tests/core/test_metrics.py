"""Metrics worth alerting on, read over HTTP after real operations: serve's /metrics counts token
mints, refreshes and invalid_grant answers, Zoom calls by endpoint template and requests by route
template; the gauges come from the database (and are cached); the worker serves its own families
on a port of its own; no id, token or secret ever appears in a label."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from obfbroker.app import create_app
from obfbroker.lifeline import preexec
from tests.support.bot_scenes import CREATE, Scene, fetch_token, launch_spec, new_meeting
from tests.support.customers import in_database, make_customer
from tests.support.databases import TEST_KEY
from tests.support.http import http_get
from tests.support.processes import stop
from tests.support.servers import free_port, serve_app
from tests.support.sim import SimControl
from tests.support.stack import Stack, make_settings
from tests.support.webhook_receivers import Receiver


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    """A database (and so an API server) of the test's own: the counts are exactly its own."""
    return fresh_database_url


class Scrape:
    """One /metrics answer, parsed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = {(s.name, frozenset(s.labels.items())): s.value
                        for family in text_string_to_metric_families(text) for s in family.samples}

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def families(self) -> set[str]:
        return {family.name for family in text_string_to_metric_families(self.text)}


def scrape(url: str) -> Scrape:
    response = http_get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)


def sim_secrets(sim: SimControl) -> set[str]:
    """Every access, refresh and meeting token the simulator handed out in this test."""
    grants = sim.app.state.sim.grants
    return {*grants.access, *grants.refresh_index, *grants.minted}


def assert_no_secret(text: str, secrets: set[str]) -> None:
    leaked = {secret for secret in secrets if secret and secret in text}
    assert not leaked, f"metrics text contains {len(leaked)} id(s), token(s) or secret(s)"


def expire_tokens(sim: SimControl, user_id: str) -> None:
    sim._ok(sim.http.post(f"/_sim/users/{user_id}/expire-tokens"))


def test_serve_counts_mints_refreshes_and_invalid_grants_with_fixed_labels(stack: Stack, sim: SimControl):
    customer = make_customer(stack)
    hook = customer.api.put("/api/v1/webhooks", json={"url": "https://hooks.example.com/obf"})
    assert hook.status_code == 200, hook.text
    alice = sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    scene = Scene(customer, alice, new_meeting(stack, alice["id"]))
    bot = scene.hosted_bot()
    spec = launch_spec(stack, bot["bot_id"])
    minted = [fetch_token(stack, spec), fetch_token(stack, spec, kind="zak")]
    expire_tokens(sim, alice["id"])  # Zoom answers the next mint 401 (124): one forced refresh
    minted.append(fetch_token(stack, spec))
    assert [r.status_code for r in minted] == [200, 200, 200]
    secrets = sim_secrets(sim)  # before the revoke below forgets them
    expire_tokens(sim, alice["id"])
    sim.revoke_user(alice["id"])  # the forced refresh now meets invalid_grant: disconnected
    assert fetch_token(stack, spec).status_code == 409
    assert customer.api.get(f"/api/v1/bots/{bot['bot_id']}").status_code == 200
    assert customer.api.get(f"/api/v1/bots/{bot['bot_id']}/nope").status_code == 404

    m = scrape(stack.url)
    assert m("obfbroker_token_refreshes_total", outcome="ok") == 1
    assert m("obfbroker_token_refreshes_total", outcome="invalid_grant") == 1
    assert m("obfbroker_token_refreshes_total", outcome="invalid_client") == 0, "present at 0 for alerts"
    assert m("obfbroker_tokens_minted_total", type="obf", outcome="ok") == 2
    assert m("obfbroker_tokens_minted_total", type="zak", outcome="ok") == 1
    assert m("obfbroker_tokens_minted_total", type="obf", outcome="zoom_user_disconnected") == 1
    # Zoom calls by endpoint template: code exchange and two refreshes; one /users/me; five mints.
    assert m("obfbroker_zoom_request_seconds_count", endpoint="/oauth/token") == 3
    assert m("obfbroker_zoom_request_seconds_count", endpoint="/users/me") == 1
    assert m("obfbroker_zoom_request_seconds_count", endpoint="/users/me/token") == 5
    assert m("obfbroker_zoom_errors_total", endpoint="/users/me/token", error="invalid_access_token") == 2
    assert m("obfbroker_zoom_errors_total", endpoint="/oauth/token", error="invalid_grant") == 1
    # Requests by route template, prefix included; what matched no route is "unmatched".
    assert m("obfbroker_http_requests_total", method="POST", route=CREATE, status="201") == 1
    assert m("obfbroker_http_requests_total", method="POST", route="/api/v1/zoom/oauth/connections",
             status="200") == 1
    assert m("obfbroker_http_requests_total", method="GET", route="/api/v1/bots/{bot_id}", status="200") == 1
    assert m("obfbroker_http_requests_total", method="GET", route="/token-server/zoom/obf", status="200") == 2
    assert m("obfbroker_http_requests_total", method="GET", route="/token-server/zoom/obf", status="409") == 1
    assert m("obfbroker_http_requests_total", method="GET", route="/token-server/zoom/zak", status="200") == 1
    assert m("obfbroker_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert m("obfbroker_http_request_seconds_count", method="GET", route="/token-server/zoom/obf") == 3
    routes = {dict(labels)["route"] for name, labels in m.samples if name == "obfbroker_http_requests_total"}
    assert all(route == "unmatched" or route.startswith("/") for route in routes)
    # The gauges, read from the database by this first scrape.
    assert m("obfbroker_connections", state="connected") == 0
    assert m("obfbroker_connections", state="disconnected") == 1
    assert m("obfbroker_keepalive_due_connections") == 0
    assert m("obfbroker_webhook_outbox_due_messages") >= 2, "connected and disconnected, never sent by serve"
    assert m("obfbroker_webhook_outbox_oldest_due_seconds") > 0

    secrets |= {customer.api_key, customer.app.client_secret, customer.app.webhook_secret_token,
                spec["bot_secret"], alice["id"], alice["email"], bot["bot_id"], scene.meeting.number,
                scene.meeting.passcode, *(r.json()["token"] for r in minted)}
    assert_no_secret(m.text, secrets)


def test_a_queued_bot_stopped_through_the_api_is_counted_as_finished(stack: Stack, sim: SimControl):
    customer = make_customer(stack)
    alice = sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    bot = Scene(customer, alice, new_meeting(stack, alice["id"])).hosted_bot()
    assert customer.api.post(f"/api/v1/bots/{bot['bot_id']}/leave").status_code == 202
    m = scrape(stack.url)
    assert m("obfbroker_bots_finished_total", status="ended", reason="left_by_request") == 1


def test_database_gauges_are_read_once_per_cache_period(fresh_database_url: str, sim: SimControl):
    settings = make_settings(fresh_database_url, sim, metrics_cache_seconds=300)
    with serve_app(create_app(settings)) as url:
        customer = make_customer(Stack(url=url, settings=settings, sim=sim))
        assert scrape(url)("obfbroker_connections", state="connected") == 0
        assert customer.connect(sim.create_user("Alice")["id"]).status_code == 200
        again = scrape(url)
        assert again("obfbroker_connections", state="connected") == 0, "answered from the cache"
        assert again("obfbroker_http_requests_total", method="POST", route="/api/v1/zoom/oauth/connections",
                     status="200") == 1, "counters are live"
        customer.api.close()


WORKER_FAMILIES = {
    "obfbroker_bots_finished", "obfbroker_bot_join_attempts", "obfbroker_bots_running",
    "obfbroker_webhook_delivery_attempts", "obfbroker_webhook_delivery_failures",
    "obfbroker_webhook_outbox_due_messages", "obfbroker_webhook_outbox_oldest_due_seconds",
    "obfbroker_keepalive_connections", "obfbroker_keepalive_due_connections",
    "obfbroker_token_refreshes", "obfbroker_zoom_request_seconds", "obfbroker_connections",
    "obfbroker_worker_rounds",
}


def start_worker(settings, metrics_port: int, log: Path, database_url: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "OBFBROKER_DATABASE_URL": database_url or settings.database_url,
           "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY, "OBFBROKER_ZOOM_OAUTH_URL": settings.zoom_oauth_url,
           "OBFBROKER_ZOOM_API_URL": settings.zoom_api_url, "OBFBROKER_PUBLIC_URL": settings.public_url,
           "OBFBROKER_MEETING_ADAPTER": "zoomsim", "OBFBROKER_WORKER_POLL_SECONDS": "0.1",
           "OBFBROKER_DATABASE_POOL_SIZE": "3", "OBFBROKER_DATABASE_MAX_OVERFLOW": "5",
           "OBFBROKER_WORKER_METRICS_PORT": str(metrics_port),
           "OBFBROKER_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"}
    with log.open("wb") as sink:  # a file, not a pipe nobody reads: the worker never blocks on it
        return subprocess.Popen([sys.executable, "-m", "obfbroker", "worker", "--no-migrate"], env=env,
                                stdout=subprocess.DEVNULL, stderr=sink, preexec_fn=preexec())


def wait_for(check, process: subprocess.Popen, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the worker exited: {log.read_text()[-3000:]}"
        try:
            if result := check():
                return result
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise AssertionError(f"not seen in time; worker log: {log.read_text()[-3000:]}")


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    """The customer's webhook endpoint, failing every delivery with a 500."""
    receiver = Receiver(status=500)
    with serve_app(Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])) as url:
        receiver.url = f"{url}/hooks/obf"
        yield receiver


def idle_database(migrated_templates: dict[str, str], tmp_path: Path) -> str:
    """A migrated SQLite database with nothing to do in it."""
    path = tmp_path / "idle.db"
    path.write_bytes(Path(migrated_templates["sqlite"]).read_bytes())
    return f"sqlite:///{path}"


def bot_scene(stack: Stack, hooks: Receiver) -> tuple[Scene, dict]:
    """Alice connected (her keep-alive due), in her meeting, a hosted bot for it, and the
    customer's webhooks going to ``hooks``."""
    from sqlalchemy import update

    from obfbroker.connections.models import ZoomConnection
    from obfbroker.db.base import utcnow

    customer = make_customer(stack)
    assert customer.api.put("/api/v1/webhooks", json={"url": hooks.url}).status_code == 200
    alice = stack.sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200

    async def keepalive_due(session):
        due = utcnow() - timedelta(hours=1)
        await session.execute(update(ZoomConnection).values(next_keepalive_at=due))

    in_database(stack, keepalive_due)
    scene = Scene(customer, alice, new_meeting(stack, alice["id"]))
    stack.sim._ok(stack.sim.http.post(f"/_sim/meetings/{scene.meeting.number}/participants",
                                      json={"user_id": alice["id"]}))
    return scene, scene.hosted_bot()


# The queries behind the worker's gauges are serve's, run on both backends above.
@pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)
def test_the_worker_serves_its_families_on_its_own_port(fresh_database_url: str, sim: SimControl,
                                                        hooks: Receiver, migrated_templates, tmp_path):
    api_port = free_port()
    settings = make_settings(fresh_database_url, sim, public_url=f"http://127.0.0.1:{api_port}",
                             meeting_adapter="zoomsim")
    with serve_app(create_app(settings), port=api_port) as url:
        stack = Stack(url=url, settings=settings, sim=sim)
        scene, bot = bot_scene(stack, hooks)
        metrics_port, log, busy_log = free_port(), tmp_path / "worker.log", tmp_path / "busy.log"
        metrics_url = f"http://127.0.0.1:{metrics_port}"
        # A second worker finds its metrics port taken (it works on a database of its own).
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy_port = taken.getsockname()[1]
            worker = start_worker(settings, metrics_port, log)
            busy = start_worker(settings, busy_port, busy_log, idle_database(migrated_templates, tmp_path))
            try:
                wait_for(lambda: scrape(metrics_url)("obfbroker_bot_join_attempts_total", outcome="joined"),
                         worker, log)
                sim._ok(sim.http.delete(  # Zoom takes the bot out with her
                    f"/_sim/meetings/{scene.meeting.number}/participants/{scene.alice['id']}"))

                def all_counted():
                    s = scrape(metrics_url)
                    done = (s("obfbroker_bots_finished_total", status="ended", reason="authorizing_user_left")
                            and s("obfbroker_webhook_delivery_failures_total", error="http_5xx")
                            and s("obfbroker_keepalive_connections_total", outcome="refreshed")
                            # the round that counted the failed delivery has finished
                            and s("obfbroker_worker_rounds_total", loop="webhooks", outcome="ok"))
                    return s if done else None

                m = wait_for(all_counted, worker, log)
                assert m.families() >= WORKER_FAMILIES
                assert m("obfbroker_bot_join_attempts_total", outcome="joined") == 1
                assert m("obfbroker_keepalive_connections_total", outcome="refreshed") == 1
                assert m("obfbroker_token_refreshes_total", outcome="ok") == 1, "the keep-alive refresh"
                assert m("obfbroker_zoom_request_seconds_count", endpoint="/oauth/token") == 1
                assert m("obfbroker_webhook_delivery_attempts_total", outcome="delivered") == 0
                assert m("obfbroker_webhook_delivery_attempts_total", outcome="failed") >= 1
                assert m("obfbroker_connections", state="connected") == 1
                assert m("obfbroker_worker_rounds_total", loop="webhooks", outcome="ok") >= 1
                assert http_get(f"{metrics_url}/healthz", timeout=5).json() == {"status": "ok"}
                assert http_get(f"{metrics_url}/other", timeout=5).status_code == 404
                assert scrape(url)("obfbroker_tokens_minted_total", type="obf", outcome="ok") == 1

                wait_for(lambda: "worker started" in busy_log.read_text(), busy, busy_log)
                [line] = [line for line in busy_log.read_text().splitlines() if "metrics not served" in line]
                assert f"127.0.0.1:{busy_port}" in line and "OBFBROKER_WORKER_METRICS_PORT" in line
                assert busy.poll() is None, "the worker runs on without its metrics port"
            finally:
                stop(busy)
                stop(worker)
        assert worker.returncode == 0 and busy.returncode == 0
        customer = scene.customer
        assert_no_secret(m.text, sim_secrets(sim) | {
            customer.api_key, customer.app.client_secret, scene.alice["id"], scene.alice["email"],
            bot["bot_id"], scene.meeting.number, launch_spec(stack, bot["bot_id"])["bot_secret"]})
        customer.api.close()
