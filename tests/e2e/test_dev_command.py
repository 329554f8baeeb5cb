"""`obfbroker dev` (what `make run` starts): the stack comes up, reuses its data, stops cleanly."""

from __future__ import annotations

import json
import re
import socket
import subprocess

import httpx

from tests.support.dev_stack import dev_command, start_dev, stop_dev
from tests.support.http import http_get


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_dev_starts_everything_reuses_data_and_stops_on_ctrl_c(tmp_path):
    dev = start_dev(tmp_path)
    port, sim_port, example_port = dev.port, dev.sim_port, dev.example_port
    try:
        banner = dev.banner
        key = re.search(r"Demo API key\s+(\S+)", banner).group(1)
        assert f"http://127.0.0.1:{port}" in banner and f"http://127.0.0.1:{sim_port}" in banner
        headers = {"Authorization": f"Token {key}"}
        app = http_get(f"http://127.0.0.1:{port}/api/v1/zoom/oauth/app", headers=headers).json()
        assert app["client_id"] == "demo-client-id"
        url = http_get(f"http://127.0.0.1:{port}/api/v1/zoom/oauth/authorize-url", headers=headers,
                        params={"redirect_uri": "http://127.0.0.1:5005/zoom/oauth/callback"})
        assert url.json()["authorize_url"].startswith(f"http://127.0.0.1:{sim_port}/oauth/authorize?")
        consent = http_get(url.json()["authorize_url"])
        assert consent.status_code == 200 and "Alice Example" in consent.text
        # Customers' URLs: the example app's loopback port may be a plain-http webhook, nothing
        # else on this machine (the API itself, the simulator) may.
        hooks = f"http://127.0.0.1:{port}/api/v1/webhooks"
        allowed = httpx.put(hooks, headers=headers, json={"url": f"http://127.0.0.1:{example_port}/hooks"})
        assert allowed.status_code == 200, allowed.text
        for refused in (f"http://127.0.0.1:{sim_port}/_sim/users", f"http://localhost:{port}/metrics",
                        "https://127.0.0.1/"):
            response = httpx.put(hooks, headers=headers, json={"url": refused})
            assert response.status_code == 400 and response.json()["code"] == "invalid_webhook_url", refused

        ports = (port, sim_port, example_port, dev.node_port)
        taken = subprocess.run(dev_command(ports), cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert taken.returncode == 2 and "already in use" in taken.stderr
    finally:
        assert stop_dev(dev) == 0
    assert not port_open(port) and not port_open(sim_port), "Ctrl-C stopped every child"

    again = start_dev(tmp_path, ports=ports)
    try:
        assert again.api_key == key
    finally:
        stop_dev(again)
    stored = json.loads((tmp_path / "var" / "dev-account.json").read_text())
    assert stored["api_key"] == key
    assert (tmp_path / "var" / "obfbroker.db").exists()
