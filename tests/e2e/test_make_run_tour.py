"""The README tour against `obfbroker dev` (what `make run` starts), run as a subprocess on free
ports: both example apps connect end-users through the simulator's consent page (in headless
Chromium for the Python example), and a bot sent from the Python example joins Alice's meeting."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from obfbroker.lifeline import preexec
from tests.support.browser import chromium
from tests.support.dev_stack import start_dev, stop_dev
from tests.support.http import TLS, http_get

REPO = Path(__file__).resolve().parents[2]


class Dev:
    """`obfbroker dev` from the repository (the example apps are found there), its data and logs
    in the test's folder, with a client for the API (the demo key) and one for the simulator."""

    def __init__(self, tmp: Path) -> None:
        self.log = tmp / "dev-stderr.log"  # what every process dev starts logs
        self.stack = start_dev(REPO, stderr=self.log, env={
            "OBFBROKER_DATA_DIR": str(tmp / "var"),
            "OBFBROKER_DATABASE_URL": f"sqlite:///{tmp / 'var' / 'obfbroker.db'}"})
        self.port, self.node_port = self.stack.port, self.stack.node_port
        self.example_port, self.api_key = self.stack.example_port, self.stack.api_key
        meeting_line = r"^\s+(Alice|Bob|Carol)\s+(https://zoom\.us/j/\S+)$"
        self.meetings = dict(re.findall(meeting_line, self.stack.banner, re.M))
        self.api = httpx.Client(verify=TLS, base_url=self.stack.api_url,
                                headers={"Authorization": f"Token {self.api_key}"}, timeout=30)
        self.sim = httpx.Client(verify=TLS, base_url=self.stack.sim_url, timeout=30)

    def stop(self) -> None:
        self.api.close()
        self.sim.close()
        assert stop_dev(self.stack) == 0


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    stack = Dev(tmp_path)
    try:
        yield stack
    finally:
        stack.stop()


def wait_for(predicate, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_the_readme_tour_runs_against_make_run(dev: Dev):
    from obfbroker.zoomsim.seed import ALICE_ID, BOB_ID

    assert set(dev.meetings) == {"Alice", "Bob", "Carol"}
    example = f"http://127.0.0.1:{dev.example_port}"
    with chromium() as browser:
        page = browser.new_page()
        codes: list[str] = []  # the OAuth codes Zoom hands the example app's callback
        page.on("request", lambda request: codes.extend(
            parse_qs(urlsplit(request.url).query).get("code", []) if "/zoom/oauth/callback" in request.url
            else []))
        # The customer's product: an end-user clicks Connect Zoom.
        page.goto(example)
        page.get_by_label("Name").fill("Alice")
        page.get_by_role("button", name="Add end-user").click()
        page.get_by_role("button", name="Connect Zoom").click()
        # Zoom (the simulator) asks who signs in; Alice allows the app.
        page.get_by_label(re.compile("Alice Example")).check()
        page.get_by_role("button", name=re.compile("Allow")).click()
        page.wait_for_url(re.compile(rf"^{re.escape(example)}/users/"))
        assert ALICE_ID in page.content()
        # Send a bot to Alice's meeting from the example app.
        page.get_by_label("Zoom meeting link").fill(dev.meetings["Alice"])
        page.get_by_role("button", name="Send a bot to my meeting").click()
        page.wait_for_url(re.compile(rf"^{re.escape(example)}/bots/"))
        bot_id = urlsplit(page.url).path.rsplit("/", 1)[1]

    def status() -> dict:
        return dev.api.get(f"/api/v1/bots/{bot_id}").json()

    assert codes, "the callback was seen with its code"
    logged = dev.log.read_text()
    assert "/zoom/oauth/callback" in logged, "the example app's access log is in the output"
    assert not [code for code in codes if code in logged], "an OAuth code was written to a log"
    wait_for(lambda: status()["status"] == "waiting_for_authorizing_user")
    assert dev.api.get(f"/api/v1/bots/{bot_id}/status").json() == {
        "bot_id": bot_id, "status": "waiting_for_authorizing_user", "bot_status": "Joining", "reason": None}
    number = dev.meetings["Alice"].split("/j/")[1].split("?")[0]
    dev.sim.post(f"/_sim/meetings/{number}/participants", json={"user_id": ALICE_ID}).raise_for_status()
    joined = wait_for(lambda: (bot := status())["status"] == "in_meeting" and bot)
    assert joined["zoom_oauth_connection_user_id"] == ALICE_ID and joined["bot_status"] == "InMeeting"

    # The Node example completes the same connect flow for Bob.
    if shutil.which("node") is None:
        pytest.skip("node is missing: the Node example's part of the tour was not run")
    node_env = {**os.environ, "OBFBROKER_API_URL": f"http://127.0.0.1:{dev.port}",
                "OBFBROKER_API_KEY": dev.api_key, "PORT": str(dev.node_port),
                "REDIRECT_URI": f"http://127.0.0.1:{dev.node_port}/zoom/oauth/callback"}
    node = subprocess.Popen(["node", "server.js"], cwd=REPO / "examples" / "zoom-meetstream-oauth-callback",
                            env=node_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=preexec())
    try:
        node_url = f"http://127.0.0.1:{dev.node_port}"
        wait_for(lambda: _ok(f"{node_url}/healthz"), timeout=30)
        with httpx.Client(verify=TLS, timeout=30) as browser_like:
            consent = browser_like.get(f"{node_url}/connect", params={"user": "bob-1"}, follow_redirects=True)
            form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
            form = {k: html.unescape(v) for k, v in form.items()} | {"user_id": BOB_ID, "decision": "allow"}
            done = browser_like.post(str(consent.url).split("?")[0], data=form, follow_redirects=True)
        assert done.status_code == 200 and BOB_ID in done.text
    finally:
        node.terminate()
        node.wait(timeout=10)
    bob = dev.api.get(f"/api/v1/zoom/oauth/connections/{BOB_ID}").json()
    assert bob["state"] == "connected" and bob["metadata"] == {"tenant_user_id": "bob-1"}


def _ok(url: str) -> bool:
    try:
        return http_get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
