"""``obfbroker dev``: the whole stack on one machine, offline, on SQLite under ./var.

Starts the Zoom simulator (seeded with a demo app and Alice, Bob and Carol) and the API as
child processes, makes sure a demo account exists with its Zoom app pointing at the
simulator, prints what to try, and stops every child on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from obfbroker.settings import Settings
from obfbroker.zoomsim import seed

DEMO_ACCOUNT_FILE = "dev-account.json"


class DevError(RuntimeError):
    """Something the person running `obfbroker dev` must fix; the message says what."""


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_healthy(url: str, process: subprocess.Popen, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevError(f"{name} exited with status {process.returncode}; see its log above")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise DevError(f"{name} did not become healthy at {url} within {timeout:.0f}s")


def _demo_account(settings: Settings) -> dict[str, str]:
    """The demo account's id and key, created on first start and kept under ./var."""
    path = settings.data_dir / DEMO_ACCOUNT_FILE
    if path.exists():
        return json.loads(path.read_text())
    from obfbroker.accounts.service import create_account
    from obfbroker.db.migrate import upgrade
    from obfbroker.db.session import transaction
    from obfbroker.runtime import Runtime

    upgrade(settings)

    async def create() -> dict[str, str]:
        runtime = await Runtime.start(settings)
        try:
            async with transaction(runtime.sessions) as session:
                account, key = await create_account(session, runtime.hasher, name="Demo")
                return {"account_id": account.id, "api_key": key}
        finally:
            await runtime.close()

    account = asyncio.run(create())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(account, handle)
    return account


def _configure_demo_app(api_url: str, sim_url: str, api_key: str) -> dict:
    headers = {"Authorization": f"Token {api_key}"}
    app = httpx.put(f"{api_url}/api/v1/zoom/oauth/app", headers=headers, timeout=10, json={
        "client_id": seed.DEMO_CLIENT_ID, "client_secret": seed.DEMO_CLIENT_SECRET,
        "webhook_secret_token": seed.DEMO_WEBHOOK_SECRET_TOKEN})
    if app.status_code != 200:
        raise DevError(f"could not configure the demo Zoom app: {app.status_code} {app.text}")
    webhook_url = app.json()["webhook_url"]
    httpx.patch(f"{sim_url}/_sim/apps/{seed.DEMO_CLIENT_ID}", json={"webhook_url": webhook_url},
                timeout=10).raise_for_status()
    return app.json()


def _banner(api_url: str, sim_url: str, account: dict[str, str]) -> str:
    redirect = seed.DEMO_REDIRECT_URIS[0]
    key = account["api_key"]
    return f"""
obfbroker is running (Ctrl-C stops everything)
  API          {api_url}        (docs: {api_url}/docs)
  Zoom sim     {sim_url}        (users: Alice, Bob, Carol)
  Demo API key {key}

Try:
  1. Get Alice's authorize URL and open it in a browser; sign in as Alice and Allow:
     curl -s -H 'Authorization: Token {key}' \\
       '{api_url}/api/v1/zoom/oauth/authorize-url?redirect_uri={redirect}&state=alice'
  2. Copy the code from the address Zoom sends the browser to ({redirect}?code=...) and connect:
     curl -s -H 'Authorization: Token {key}' -H 'Content-Type: application/json' \\
       -d '{{"code": "<code>", "redirect_uri": "{redirect}"}}' {api_url}/api/v1/zoom/oauth/connections
  3. List the connections:
     curl -s -H 'Authorization: Token {key}' {api_url}/api/v1/zoom/oauth/connections
"""


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_dev(*, host: str, port: int, sim_port: int) -> int:
    api_url, sim_url = f"http://{host}:{port}", f"http://{host}:{sim_port}"
    taken = [str(p) for p in (port, sim_port) if not port_is_free(host, p)]
    if taken:
        print(f"obfbroker dev: port {', '.join(taken)} on {host} is already in use; stop what "
              "uses it or pass --port / --sim-port", file=sys.stderr)
        return 2
    env = {**os.environ, "OBFBROKER_ZOOM_OAUTH_URL": sim_url, "OBFBROKER_ZOOM_API_URL": f"{sim_url}/v2",
           "OBFBROKER_PUBLIC_URL": os.environ.get("OBFBROKER_PUBLIC_URL", api_url),
           "OBFBROKER_MEETING_ADAPTER": "zoomsim"}
    settings = Settings(zoom_oauth_url=sim_url, zoom_api_url=f"{sim_url}/v2")
    python = [sys.executable, "-m", "obfbroker"]
    # Ctrl-C and SIGTERM both stop cleanly, even when started with SIGINT ignored (`cmd &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    processes: list[subprocess.Popen] = []
    # Children ignore the terminal's Ctrl-C (own process group): we stop them in order.
    spawn = dict(env=env, start_new_session=True)
    try:
        account = _demo_account(settings)
        processes.append(subprocess.Popen([*python, "zoomsim", "--seed", "demo", "--host", host,
                                           "--port", str(sim_port)], **spawn))
        _wait_healthy(f"{sim_url}/_sim/healthz", processes[-1], "the Zoom simulator")
        processes.append(subprocess.Popen([*python, "serve", "--host", host, "--port", str(port)],
                                          **spawn))
        _wait_healthy(f"{api_url}/readyz", processes[-1], "the API")
        _configure_demo_app(api_url, sim_url, account["api_key"])
        print(_banner(api_url, sim_url, account), flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("obfbroker dev: a process stopped; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nobfbroker dev: stopping", file=sys.stderr)
        return 0
    except DevError as err:
        print(f"obfbroker dev: {err}", file=sys.stderr)
        return 1
    finally:
        _stop(processes)

