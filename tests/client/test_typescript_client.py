"""clients/typescript: the TypeScript client generated from the OpenAPI document. Installed with
`npm ci` and compiled with tsc once per test session (in a temporary copy), checked against the
live document so the committed types can't drift, and used by a Node script against the real
API and the Zoom simulator (connections, bots, token links and their errors)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"
NPM_CI = ["ci", "--prefer-offline", "--no-audit", "--no-fund"]
# One worker installs and compiles the client; the tests share it.
pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
              pytest.mark.xdist_group("typescript_client")]


def _no_node(why: str) -> None:
    """Skip loudly on a developer machine; fail in CI, where Node is installed."""
    message = (f"TYPESCRIPT CLIENT NOT TESTED: {why} (install Node 20 and npm, "
               "e.g. apt-get install -y nodejs npm)")
    if os.environ.get("CI"):
        pytest.fail(message.replace("NOT TESTED", "CANNOT BE TESTED IN CI"), pytrace=False)
    pytest.skip(message)


def _run(args: list[str], cwd: Path, *, env: dict[str, str] | None = None, timeout: float = 180,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(result.args)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="session")
def ts_client(tmp_path_factory) -> Path:
    """A copy of the package with its locked dependencies installed and everything compiled."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _no_node("`node` or `npm` is not on PATH")
    copy = tmp_path_factory.mktemp("ts-client") / "typescript"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("node_modules", "dist", ".build-test"))
    _ok(_run([npm, *NPM_CI], copy))
    # Type-checks the client and the script (strict), and emits the script for node.
    _ok(_run([node, "node_modules/typescript/bin/tsc", "-p", "test/tsconfig.json"], copy))
    return copy


def test_the_committed_types_match_the_live_openapi_document(ts_client: Path, stack: Stack) -> None:
    result = _run(["node", "scripts/generate.mjs", "--check", f"{stack.url}/openapi.json"], ts_client)
    assert result.returncode == 0, (
        "clients/typescript/src/schema.ts is stale: run `npm run generate` in clients/typescript\n"
        + result.stderr)


def test_a_node_backend_uses_the_client_against_the_api(ts_client: Path, stack: Stack) -> None:
    _, api_key = stack.create_account("ts-client")
    app = stack.sim.create_app()
    alice = stack.sim.create_user("Alice")
    code = stack.sim.authorize(app, alice["id"], redirect_uri=REDIRECT_URI)

    out = _ok(_run(["node", ".build-test/test/smoke.js"], ts_client, timeout=60, env={
        "OBFBROKER_URL": stack.url, "OBFBROKER_API_KEY": api_key, "REDIRECT_URI": REDIRECT_URI,
        "OBFBROKER_PUBLIC_URL": stack.settings.public_url,
        "ZOOM_CLIENT_ID": app.client_id, "ZOOM_CLIENT_SECRET": app.client_secret,
        "ZOOM_WEBHOOK_SECRET_TOKEN": app.webhook_secret_token, "ZOOM_CODE": code,
        "MEETING_LINK": "https://zoom.us/j/123456789?pwd=abc"}))
    seen = json.loads(out)

    assert seen["app"] == {"client_id": app.client_id, "has_client_secret": True}
    assert seen["authorize_url"].startswith(f"{stack.sim.url}/oauth/authorize?")
    assert seen["connection"] == {"zoom_user_id": alice["id"], "state": "connected",
                                  "metadata": {"tenant_user_id": "u_42"}}
    assert seen["listed"] == [alice["id"]]
    assert seen["bot_error"] == {
        "status": 400, "code": "zoom_oauth_connection_user_id_required",
        "detail": "zoom.zoom_oauth_connection_user_id is required when zoom.use_zoom_obf=true"}
    assert seen["not_found"]["status"] == 404
    assert seen["not_found"]["code"] == "zoom_user_not_connected"
    assert seen["wrong_key"]["status"] == 403
    assert seen["wrong_key"]["code"] == "invalid_api_key"
    assert seen["token_link"] == {
        "platform": "recall", "token_types": ["zak"], "state": "active", "metadata": {"bot": "ts-notes"},
        "url_kinds": ["zak"], "replayed": True, "call_status": 200,
        "uses": [{"token_type": "zak", "status": "minted"}], "listed": [True],
        "read": {"uses": 1, "has_urls": False}, "revoked": True, "state_after_revoke": "revoked"}
    assert seen["link_not_found"] == {"status": 404, "code": "token_link_not_found",
                                      "detail": "No token link tl_nothing for this account"}
    assert app.client_secret not in out and code not in out
    assert "/token-links/" not in out and "?key=" not in out, "the link's URLs are never printed"
