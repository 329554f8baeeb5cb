"""/openapi.json is true to what the API answers: schemathesis, run against the real server over
loopback HTTP with a valid API key, generates requests for every operation from the document
(its examples, its boundaries and random data, valid and invalid) and checks every answer
against it. `make fuzz` runs the same with many more cases (OBFBROKER_FUZZ_EXAMPLES); more
schemathesis options in OBFBROKER_FUZZ_ARGS (e.g. "--report vcr"), its output in the file
OBFBROKER_FUZZ_REPORT names."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from obfbroker.app import create_app
from obfbroker.bots.service import bot_secret
from obfbroker.runtime import Runtime
from tests.support.runtimes import RuntimeSession
from tests.support.servers import serve_app
from tests.support.sim import REDIRECT_URI, SimControl
from tests.support.stack import Stack, make_settings

# Cases per operation and phase: a few seconds of CPU in `make test`; `make fuzz` raises it.
MAX_EXAMPLES = int(os.environ.get("OBFBROKER_FUZZ_EXAMPLES", "12"))
MEETING = "123456789"

# positive_data_acceptance expects a request the document allows to succeed (2xx, or 401, 403,
# 404, 409). These operations answer 400 to some requests the document allows, for reasons no
# JSON Schema can say; those 400s are documented with their codes like every other answer.
URL_RULES = ("the URL rules beyond the documented pattern (https except to this machine, no "
             "credentials, a valid port; urls.py): invalid_redirect_uri / invalid_webhook_url")
BEYOND_THE_SCHEMA = {
    ("GET", "/api/v1/zoom/oauth/authorize-url"):
        f"{URL_RULES}; and the account's Zoom app, which DELETE /api/v1/zoom/oauth/app removes "
        "(zoom_app_not_configured)",
    ("POST", "/api/v1/zoom/oauth/connections"):
        "an authorization code is valid only if Zoom issued it (zoom_code_rejected); and the URL rules",
    ("POST", "/api/v1/zoom/oauth/connections/{zoom_user_id}/reconnect-url"):
        "the URL rules and the Zoom app, as for authorize-url",
    ("PUT", "/api/v1/webhooks"): URL_RULES,
    ("POST", "/api/v1/bots/create_bot"):
        "rules across fields (use_zoom_obf needs a Zoom link with a meeting number and a connected "
        "user; join_at must be in the future) and the URL rules",
    ("GET", "/api/v1/zoom/oauth/connections"): "cursor is opaque: only a next_cursor the API gave is valid",
    ("GET", "/api/v1/bots"): "cursor is opaque: only a next_cursor the API gave is valid",
    ("GET", "/api/v1/webhooks/deliveries"): "cursor is opaque: only a next_cursor the API gave is valid",
    ("GET", "/api/v1/zoom/token-links"): "cursor is opaque: only a next_cursor the API gave is valid",
    ("GET", "/api/v1/zoom/token-links/{link_id}/uses"):
        "cursor is opaque: only a next_cursor the API gave is valid",
    ("POST", "/api/v1/zoom/token-links"):
        "rules across fields (the token types each platform mints; attendee's platform_secret must be "
        "Attendee's base64 secret of 32 bytes, and only attendee takes one; a Zoom meeting link with a "
        "number; expires_at in the future; a connected user)",
    ("GET", "/token-links/{link_id}/{kind}"):
        "what a call's query means depends on the link's platform (Meeting BaaS's extra must be JSON)",
    ("POST", "/token-links/{link_id}/{kind}"):
        "the body is the platform's own (MeetStream's fallback, Attendee's signed callback)",
}
# Nothing is excluded. `arrange` gives the operations on one object a real one, and the hosted
# token GETs a real bot's X-Bot-Id, secret and meeting (they mint at the simulator). The rest get
# credentials schemathesis can't have and must answer their documented 4xx: the token POSTs (401
# invalid_bot_credentials) and Zoom's webhook (an app id and Zoom's signature: 404
# zoom_app_not_found, 401 invalid_zoom_signature); the retry of a webhook message answers only its
# 404: no operation lists message ids (deliveries do, once the worker has sent them).
POSITIVE_STATUSES = ["2xx", "401", "403", "404", "409"]


def arrange(stack: Stack, api_key: str) -> dict[tuple[str, str], dict[str, str]]:
    """What the generated requests can't create: a Zoom app, connected users and a bot, so the
    operations on one answer it, not only 404. Returns the parameters to pin, per operation."""
    app = stack.sim.create_app()
    with stack.client(api_key) as api:
        assert api.put("/api/v1/zoom/oauth/app", json={
            "client_id": app.client_id, "client_secret": app.client_secret,
            "webhook_secret_token": app.webhook_secret_token}).status_code == 200
        users = []
        for name in ("Alice", "Bob"):
            code = stack.sim.authorize(app, stack.sim.create_user(name)["id"], redirect_uri=REDIRECT_URI)
            created = api.post("/api/v1/zoom/oauth/connections",
                               json={"code": code, "redirect_uri": REDIRECT_URI})
            assert created.status_code == 200, created.text
            users.append(created.json()["zoom_user_id"])
        bots = []
        for _ in range(2):
            bot = api.post("/api/v1/bots/create_bot", json={
                "meeting_link": f"https://zoom.us/j/{MEETING}?pwd=abc",
                "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": users[0]}})
            assert bot.status_code == 201, bot.text
            bots.append(bot.json()["bot_id"])
        # Token links of Alice: one a call mints from (ZAK: no meeting needed), one DELETE revokes.
        link_ids, keys = [], []
        for platform in ("meetstream", "recall"):
            created = api.post("/api/v1/zoom/token-links", json={"zoom_user_id": users[0],
                                                                 "platform": platform})
            assert created.status_code == 201, created.text
            link_ids.append(created.json()["id"])
            keys.append(created.json()["urls"]["zak"].split("key=")[1])
    alice, bob = ({"path.zoom_user_id": user} for user in users)
    link = {"path.link_id": link_ids[0]}
    call = {"path.link_id": link_ids[0], "path.kind": "zak", "query.key": keys[0]}
    bot_id = {"path.bot_id": bots[0]}
    # The other bot fetches tokens (the first one is asked to leave, and a finished bot gets 410).
    async def secret_of(runtime: Runtime) -> str:
        return bot_secret(runtime.hasher, bots[1])

    with RuntimeSession(stack.settings) as session:
        secret = session.run(secret_of)
    token = {"header.x-bot-id": bots[1], "header.x-webhook-secret": secret, "query.meeting_number": MEETING}
    connection, bots_path = "/api/v1/zoom/oauth/connections/{zoom_user_id}", "/api/v1/bots/{bot_id}"
    # Bob is the one DELETE erases (at its first case); Alice stays for the others.
    return {("GET", connection): alice, ("PATCH", connection): alice, ("DELETE", connection): bob,
            ("POST", f"{connection}/reconnect-url"): alice, ("GET", bots_path): bot_id,
            ("GET", f"{bots_path}/status"): bot_id, ("GET", f"{bots_path}/detail"): bot_id,
            ("POST", f"{bots_path}/leave"): bot_id, ("GET", f"{bots_path}/remove_bot"): bot_id,
            ("GET", "/token-server/zoom/obf"): token, ("GET", "/token-server/zoom/zak"): token,
            ("GET", "/api/v1/zoom/token-links/{link_id}"): link,
            ("GET", "/api/v1/zoom/token-links/{link_id}/uses"): link,
            ("DELETE", "/api/v1/zoom/token-links/{link_id}"): {"path.link_id": link_ids[1]},
            ("GET", "/token-links/{link_id}/{kind}"): call, ("POST", "/token-links/{link_id}/{kind}"): call}



def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def config_file(path: Path, *, base_url: str, api_key: str,
                pinned: dict[tuple[str, str], dict[str, str]]) -> Path:
    lines = [
        f'base-url = "{base_url}"',
        "seed = 20261204" if "OBFBROKER_FUZZ_EXAMPLES" not in os.environ else "",
        "color = false",
        f'headers = {{ Authorization = "Token {api_key}" }}',
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        "[phases.stateful]",
        "enabled = false",
    ]
    # One [[operations]] per operation, by its name: schemathesis applies the first entry that
    # matches, and include-method with include-path would match either.
    for method, route in dict.fromkeys([*BEYOND_THE_SCHEMA, *pinned]):
        lines += ["[[operations]]", f'include-name = "{method} {route}"']
        if (method, route) in BEYOND_THE_SCHEMA:
            lines += [f"# 400 for valid requests: {BEYOND_THE_SCHEMA[method, route]}",
                      "[operations.checks.positive_data_acceptance]",
                      f"expected-statuses = {toml_list([*POSITIVE_STATUSES, '400'])}"]
        if (method, route) in pinned:
            lines += ["[operations.parameters]",
                      *(f'"{name}" = "{value}"' for name, value in pinned[method, route].items())]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def own_stack(fresh_database_url: str, sim: SimControl) -> Iterator[Stack]:
    """A server over a database of its own: what the generated requests store (webhook URLs,
    bots, apps) stays out of the other tests' shared database and its worker loops."""
    # Every generated call to the pinned token link mints: no rate in the way.
    settings = make_settings(fresh_database_url, sim, token_link_calls_per_minute=100_000)
    with serve_app(create_app(settings)) as url:
        yield Stack(url=url, settings=settings, sim=sim)


@pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)
def test_every_operation_answers_what_the_document_says(own_stack: Stack, tmp_path):
    stack = own_stack
    _, api_key = stack.create_account("schemathesis")
    config = config_file(tmp_path / "schemathesis.toml", base_url=stack.url, api_key=api_key,
                         pinned=arrange(stack, api_key))
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
         f"{stack.url}/openapi.json", "--checks", "all", "--workers", "1",
         *os.environ.get("OBFBROKER_FUZZ_ARGS", "").split()],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
    if os.environ.get("OBFBROKER_FUZZ_REPORT"):
        Path(os.environ["OBFBROKER_FUZZ_REPORT"]).write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_405_allows_every_method_of_the_path(stack: Stack):
    """Starlette's Allow names the first route's methods only; GET, PUT and DELETE /api/v1/webhooks
    are three routes. A path the document names literally is that resource alone."""
    expected = {"/api/v1/webhooks": "GET, PUT, DELETE", "/token-server/zoom/obf": "GET, POST",
                "/api/v1/bots/create_bot": "POST", "/api/v1/bots/bot_x": "GET",
                "/api/v1/zoom/oauth/connections/someone": "GET, PATCH, DELETE"}
    with stack.client() as client:
        for path, allow in expected.items():
            response = client.request("OPTIONS", path)
            assert (response.status_code, response.headers["allow"]) == (405, allow), path
            assert response.json()["code"] == "method_not_allowed"
        # Opened in a browser, create_bot is the wrong method, not a bot named "create_bot".
        opened = client.get("/api/v1/bots/create_bot")
        assert (opened.status_code, opened.headers["allow"], opened.json()["code"]) == (
            405, "POST", "method_not_allowed")
