"""examples/zoom-meetstream-oauth-callback: the guide's minimal Node callback, run as a real
`node server.js` against the real API and the Zoom simulator, driven like a browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from obfbroker.lifeline import preexec
from tests.support.customers import Customer, make_customer
from tests.support.http import TLS, http_get
from tests.support.servers import free_port
from tests.support.stack import Stack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "zoom-meetstream-oauth-callback"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="NODE.JS NOT FOUND: `node` is not on PATH, so the Node callback example "
                         "(examples/zoom-meetstream-oauth-callback) is NOT tested; install Node 20")
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class _FormParser(HTMLParser):
    """The consent page's form: its action and hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")


@dataclass
class NodeCallback:
    url: str
    redirect_uri: str
    customer: Customer
    process: subprocess.Popen
    log_path: Path
    secrets: list[str] = field(default_factory=list)  # must never appear in node's output

    def browser(self) -> httpx.Client:
        return httpx.Client(verify=TLS, timeout=30, follow_redirects=False)

    def stop(self) -> None:
        stop(self.process)

    def output(self) -> str:
        return self.log_path.read_text()

    def consent(self, browser: httpx.Client, user: str, decision: str, zoom_user_id: str) -> str:
        """/connect -> the simulator's consent page -> submit it; returns the callback URL."""
        start = browser.get(f"{self.url}/connect", params={"user": user})
        assert start.status_code == 302, start.text
        authorize_url = start.headers["location"]
        sim = self.customer.stack.sim
        assert authorize_url.startswith(f"{sim.url}/oauth/authorize?")
        assert parse_qs(urlsplit(authorize_url).query)["redirect_uri"] == [self.redirect_uri]

        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        form = _FormParser()
        form.feed(page.text)
        assert form.action == "/oauth/authorize"
        assert form.hidden["client_id"] == self.customer.app.client_id
        assert form.hidden["redirect_uri"] == self.redirect_uri
        assert form.hidden["state"] == user
        submitted = browser.post(f"{sim.url}{form.action}",
                                 data={**form.hidden, "user_id": zoom_user_id, "decision": decision})
        assert submitted.status_code == 302, submitted.text
        callback = submitted.headers["location"]
        assert callback.startswith(f"{self.redirect_uri}?")
        self.secrets.extend(parse_qs(urlsplit(callback).query).get("code", []))
        return callback

    def assert_output_clean(self) -> str:
        self.stop()
        out = self.output()
        assert self.customer.api_key not in out
        for secret in self.secrets:
            assert secret not in out
        return out


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(url: str, process: subprocess.Popen, output: Callable[[], str]) -> None:
    """Wait until node answers /healthz with "ok"."""
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, f"node server.js exited: {output()}"
        try:
            health = http_get(f"{url}/healthz", timeout=1)
            if health.status_code == 200 and health.text == "ok":
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"node server.js not ready: {output()}"
        time.sleep(0.1)


@pytest.fixture
def node_callback(stack: Stack, tmp_path: Path) -> Iterator[NodeCallback]:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/zoom/oauth/callback"
    customer = make_customer(stack, app=stack.sim.create_app(redirect_uris=[redirect_uri]))
    env = {**os.environ, "OBFBROKER_API_URL": stack.url, "OBFBROKER_API_KEY": customer.api_key,
           "REDIRECT_URI": redirect_uri, "PORT": str(port), "HOST": "127.0.0.1"}
    log_path = tmp_path / "node.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([NODE or "node", "server.js"], cwd=EXAMPLE, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec())
    node = NodeCallback(f"http://127.0.0.1:{port}", redirect_uri, customer, process, log_path)
    try:
        wait_healthy(node.url, process, node.output)
        yield node
    finally:
        node.stop()
        customer.api.close()


@needs_node
@sqlite_only
def test_alice_connects_through_the_node_callback(node_callback: NodeCallback):
    node, sim = node_callback, node_callback.customer.stack.sim
    alice = sim.create_user("Alice")
    with node.browser() as browser:
        callback = node.consent(browser, "alice-1", "allow", alice["id"])
        assert parse_qs(urlsplit(callback).query)["state"] == ["alice-1"]
        page = browser.get(callback)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    for value in (alice["id"], alice["email"], alice["display_name"], "alice-1"):
        assert value in page.text

    fetched = node.customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}")
    assert fetched.status_code == 200, fetched.text
    connection = fetched.json()
    assert connection["metadata"] == {"tenant_user_id": "alice-1"}
    assert connection["state"] == "connected" and connection["has_refresh_token"] is True

    out = node.assert_output_clean()
    assert f"connected alice-1 -> {alice['id']}" in out.splitlines()


@needs_node
@sqlite_only
def test_state_is_html_escaped_on_the_page(node_callback: NodeCallback):
    node, sim = node_callback, node_callback.customer.stack.sim
    bob = sim.create_user("Bob")
    with node.browser() as browser:
        page = browser.get(node.consent(browser, "<b>bob</b>&1", "allow", bob["id"]))
    assert page.status_code == 200, page.text
    assert "&lt;b&gt;bob&lt;/b&gt;&amp;1" in page.text and "<b>bob</b>" not in page.text
    connection = node.customer.api.get(f"/api/v1/zoom/oauth/connections/{bob['id']}").json()
    assert connection["metadata"] == {"tenant_user_id": "<b>bob</b>&1"}
    node.assert_output_clean()


@needs_node
@sqlite_only
def test_deny_gives_a_readable_400_and_connects_nobody(node_callback: NodeCallback):
    node, sim = node_callback, node_callback.customer.stack.sim
    alice = sim.create_user("Alice")
    with node.browser() as browser:
        callback = node.consent(browser, "alice-1", "deny", alice["id"])
        assert parse_qs(urlsplit(callback).query) == {"error": ["access_denied"], "state": ["alice-1"]}
        page = browser.get(callback)
    assert page.status_code == 400
    assert "access_denied" in page.text and "Nothing was connected" in page.text
    listing = node.customer.api.get("/api/v1/zoom/oauth/connections").json()
    assert listing["connections"] == []
    node.assert_output_clean()


@needs_node
@sqlite_only
def test_a_bad_code_shows_the_apis_error(node_callback: NodeCallback):
    node = node_callback
    bad_code = "not-a-real-code-0123456789"
    node.secrets.append(bad_code)
    with node.browser() as browser:
        page = browser.get(node.redirect_uri, params={"code": bad_code, "state": "alice-1"})
        missing = browser.get(node.redirect_uri, params={"state": "alice-1"})
    assert page.status_code == 400, page.text
    assert "zoom_code_rejected" in page.text
    assert "Zoom rejected the authorization code" in page.text
    assert missing.status_code == 400 and "Missing code" in missing.text
    out = node.assert_output_clean()
    assert "connection-create failed for alice-1: 400 zoom_code_rejected" in out


@needs_node
def test_an_unreachable_api_gives_a_readable_502(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "OBFBROKER_API_URL": f"http://127.0.0.1:{free_port()}",
           "OBFBROKER_API_KEY": "obf_live_unreachable", "PORT": str(port), "HOST": "127.0.0.1"}
    log_path = tmp_path / "node.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([NODE or "node", "server.js"], cwd=EXAMPLE, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec())
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log_path.read_text)
        page = http_get(f"http://127.0.0.1:{port}/connect", params={"user": "alice-1"}, timeout=30)
        assert page.status_code == 502, page.text
        assert "api_unreachable" in page.text and "is unreachable" in page.text
    finally:
        stop(process)
    assert "obf_live_unreachable" not in log_path.read_text()


@needs_node
def test_a_missing_api_key_stops_with_a_clear_message():
    env = {k: v for k, v in os.environ.items() if k != "OBFBROKER_API_KEY"}
    env["PORT"] = str(free_port())
    result = subprocess.run([NODE or "node", "server.js"], cwd=EXAMPLE, env=env,
                            capture_output=True, text=True, timeout=20)
    assert result.returncode != 0
    assert "OBFBROKER_API_KEY is not set" in result.stderr
