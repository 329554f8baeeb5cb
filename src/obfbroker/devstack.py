"""``obfbroker dev``: the whole stack on one machine, offline, on SQLite under ./var.

It is the one command that creates ./var, the development key file and the SQLite database
(``prepare_data``); every other command fails with one line when they are missing. Then it
starts the Zoom simulator (seeded with a demo app and Alice, Bob and Carol) and the API as
child processes, makes sure a demo account exists with its Zoom app pointing at the
simulator, prints what to try, and stops every child on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from obfbroker.lifeline import preexec
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


def prepare_data(settings: Settings) -> None:
    """Create the data folder, the development key (unless keys are configured) and the database."""
    from obfbroker.db.migrate import upgrade

    path = settings.sqlite_path
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.encryption_keys.strip():
            settings.create_dev_key_file()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DevError(f"cannot create {err.filename or settings.data_dir.resolve()} "
                       f"({err.strerror}); run from a writable folder or set OBFBROKER_DATA_DIR "
                       "and OBFBROKER_DATABASE_URL") from None
    if path is not None and not path.exists():
        upgrade(settings)


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
                account, key = await create_account(session, runtime.hasher, name="Demo",
                                                        now=runtime.clock.now())
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


def _banner(urls: dict[str, str], account: dict[str, str], meetings: dict[str, dict]) -> str:
    key, api, example = account["api_key"], urls["api"], urls.get("example")
    alice = meetings.get("Alice", {})
    lines = [
        "",
        "obfbroker is running (Ctrl-C stops everything)",
        f"  API + dashboard  {api}  (API docs {api}/docs, dashboard {api}/dashboard)",
        f"  Zoom simulator   {urls['sim']}  (users Alice, Bob, Carol; meetings and who is in them)",
    ]
    if example:
        lines.append(f"  Example app      {example}  (the customer side of the guide)")
    lines += [f"  Demo API key     {key}", "",
              "Meetings (one per demo user, on the simulator; links for the API, not for a browser):"]
    lines += [f"  {name:<6} {meeting['join_url']}" for name, meeting in meetings.items()]
    lines += ["", "Next:"]
    if example:
        lines.append(f"  1. Open {example}, add an end-user and click Connect Zoom; allow as Alice.")
    else:
        lines.append(f"  1. Sign in to {api}/dashboard with the demo key; Connect Zoom; allow as Alice.")
    body = json.dumps({"meeting_link": alice.get("join_url", ""),
                       "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": seed.ALICE_ID}})
    lines += [
        f"  2. Send a bot to Alice's meeting ({alice.get('join_url', '')}) from the example app, or:",
        f"     curl -s -H 'Authorization: Token {key}' -H 'Content-Type: application/json' \\",
        f"       -d '{body}' {api}/api/v1/bots/create_bot",
        "     The bot waits: Zoom only admits an OBF bot once its user is in the meeting.",
        "  3. Make Alice join; watch the bot go in_meeting (and leave when she does):",
        f"     curl -s -X POST {urls['sim']}/_sim/meetings/{alice.get('meeting_number', '')}/participants "
        f"-H 'Content-Type: application/json' -d '{{\"user_id\": \"{seed.ALICE_ID}\"}}'",
        "",
    ]
    return "\n".join(lines)


def _prepare_simulator(sim_url: str, redirect_uris: list[str]) -> dict[str, dict]:
    """Allow the stack's callback URLs on the demo app and start a meeting for each demo user."""
    app = httpx.get(f"{sim_url}/_sim/apps/{seed.DEMO_CLIENT_ID}", timeout=10).json()
    allowed = list(dict.fromkeys([*app.get("redirect_uris", []), *redirect_uris]))
    httpx.patch(f"{sim_url}/_sim/apps/{seed.DEMO_CLIENT_ID}", json={"redirect_uris": allowed},
                timeout=10).raise_for_status()
    meetings = {}
    for user_id, _, display_name, _ in seed.DEMO_USERS:
        response = httpx.post(f"{sim_url}/_sim/meetings", json={"host_user_id": user_id}, timeout=10)
        response.raise_for_status()
        meetings[display_name.split()[0]] = response.json()
    return meetings


def example_app_path() -> Path | None:
    """examples/python-callback/app.py of a source checkout (editable install), if present and
    runnable: it talks to the API through the Python client (obfbroker-client), which the server
    does not depend on. Without the client, dev runs without the example app and says why."""
    if importlib.util.find_spec("obfbroker_client") is None:
        print("obfbroker dev: the example app needs the Python client (pip install ./clients/python); "
              "starting without it", file=sys.stderr)
        return None
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / "examples" / "python-callback" / "app.py"
        if candidate.exists():
            return candidate
    return None


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


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def development_hosts(host: str, ports: list[int]) -> str:
    """OBFBROKER_OUTBOUND_ALLOWED_HOSTS for the stack: the example apps' loopback ports (where a
    customer's webhook or callback may be tried out over plain http), plus whatever the
    environment already allows. Nothing else on this machine is reachable through a customer URL."""
    hosts = [entry.strip() for entry in os.environ.get("OBFBROKER_OUTBOUND_ALLOWED_HOSTS", "").split(",")]
    names = ["127.0.0.1", "localhost"]
    if host not in names and not _unspecified(host):  # `--host 0.0.0.0` serves on the loopback ones
        names.append(f"[{host}]" if ":" in host else host)
    hosts += [f"{name}:{port}" for port in ports for name in names]
    return ",".join(dict.fromkeys(entry for entry in hosts if entry))


def run_dev(*, host: str, port: int, sim_port: int, example_port: int, node_port: int) -> int:
    urls = {"api": f"http://{host}:{port}", "sim": f"http://{host}:{sim_port}"}
    example = example_app_path()
    ports = [port, sim_port] + ([example_port] if example else [])
    taken = [str(p) for p in ports if not port_is_free(host, p)]
    if taken:
        print(f"obfbroker dev: port {', '.join(taken)} on {host} is already in use; stop what "
              "uses it or pass --port / --sim-port / --example-port", file=sys.stderr)
        return 2
    sim_url, api_url = urls["sim"], urls["api"]
    env = {**os.environ, "OBFBROKER_ZOOM_OAUTH_URL": sim_url, "OBFBROKER_ZOOM_API_URL": f"{sim_url}/v2",
           "OBFBROKER_PUBLIC_URL": api_url, "OBFBROKER_MEETING_ADAPTER": "zoomsim",
           "OBFBROKER_OUTBOUND_ALLOWED_HOSTS": development_hosts(host, [example_port, node_port])}
    settings = Settings(zoom_oauth_url=sim_url, zoom_api_url=f"{sim_url}/v2", public_url=api_url)
    # The children find the key and the database dev made, wherever they resolve paths from.
    env["OBFBROKER_DATA_DIR"] = str(settings.data_dir.resolve())
    python = [sys.executable, "-m", "obfbroker"]
    # Ctrl-C and SIGTERM both stop cleanly, even when started with SIGINT ignored (`cmd &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    processes: list[subprocess.Popen] = []
    # Children ignore the terminal's Ctrl-C (own process group): we stop them in order. If we die
    # without stopping them (SIGKILL), the kernel sends each SIGTERM (obfbroker.lifeline).
    spawn = dict(env=env, start_new_session=True, preexec_fn=preexec())
    try:
        prepare_data(settings)
        account = _demo_account(settings)
        processes.append(subprocess.Popen([*python, "zoomsim", "--seed", "demo", "--host", host,
                                           "--port", str(sim_port)], **spawn))
        _wait_healthy(f"{sim_url}/_sim/healthz", processes[-1], "the Zoom simulator")
        callbacks = [f"{api_url}/dashboard/zoom/callback",
                     f"http://{host}:{example_port}/zoom/oauth/callback",
                     f"http://{host}:{node_port}/zoom/oauth/callback"]
        meetings = _prepare_simulator(sim_url, callbacks)
        processes.append(subprocess.Popen([*python, "serve", "--host", host, "--port", str(port)],
                                          **spawn))
        _wait_healthy(f"{api_url}/readyz", processes[-1], "the API")
        processes.append(subprocess.Popen([*python, "worker", "--no-migrate"], **spawn))
        _configure_demo_app(api_url, sim_url, account["api_key"])
        if example is not None:
            urls["example"] = f"http://{host}:{example_port}"
            example_env = {**env, "OBFBROKER_API_URL": api_url, "OBFBROKER_API_KEY": account["api_key"],
                           "EXAMPLE_REDIRECT_URI": callbacks[1],
                           "EXAMPLE_DB": str(settings.data_dir.resolve() / "example-callback.db")}
            # Its logs go to stderr with everyone else's: stdout is the banner.
            processes.append(subprocess.Popen([sys.executable, str(example), "--host", host, "--port",
                                               str(example_port)], env=example_env, start_new_session=True,
                                              preexec_fn=preexec(), stdout=sys.stderr))
            _wait_healthy(f"{urls['example']}/healthz", processes[-1], "the example app")
        print(_banner(urls, account, meetings), flush=True)
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
        _stop(list(reversed(processes)))
