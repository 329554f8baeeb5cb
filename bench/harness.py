"""Processes for the benchmarks: the simulator, ``serve`` and the worker as real commands on free
ports, and the set-up a customer would do over HTTP (an app, connected users, bots).

Nothing here imports the test suite: a benchmark drives obfbroker the way a deployment does,
through its CLI and its HTTP API. The one shortcut is reading bots' launch specs in bulk through
``obfbroker.bots.service`` (what ``obfbroker bots launch-spec`` prints, without a process per bot).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from obfbroker.lifeline import preexec

REDIRECT_URI = "https://customer.example.com/zoom/oauth/callback"
SCOPES = ["user:read:user", "user:read:token", "user:read:zak"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def sync_engine(database_url: str):
    from sqlalchemy import create_engine

    return create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))


def expire_stored_tokens(database_url: str, account_id: str,
                         zoom_user_ids: Iterable[str] | None = None) -> None:
    """The stored access tokens of the account's connections (or of these users') expired an
    hour ago, as after a quiet hour."""
    from sqlalchemy import update

    from obfbroker.connections.models import ZoomConnection

    query = update(ZoomConnection.__table__).where(ZoomConnection.account_id == account_id)
    if zoom_user_ids is not None:
        query = query.where(ZoomConnection.zoom_user_id.in_(list(zoom_user_ids)))
    engine = sync_engine(database_url)
    with engine.begin() as conn:
        conn.execute(query.values(access_token_expires_at=datetime.now(UTC) - timedelta(hours=1)))
    engine.dispose()


def count_not_connected(database_url: str, account_id: str) -> int:
    """The account's connections that are not connected (after a storm or a burst: must be 0)."""
    from sqlalchemy import func, select

    from obfbroker.connections.models import ZoomConnection

    engine = sync_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).where(
            ZoomConnection.account_id == account_id, ZoomConnection.state != "connected")).scalar_one()
    engine.dispose()
    return count


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    url: str | None = None

    def errors(self) -> list[str]:
        """Lines of its log at level error or worse."""
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if '"level": "error"' in line or '"level": "critical"' in line]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


LOGS = Path(tempfile.mkdtemp(prefix="obfbench-logs-"))


def obfbroker(log: Path, *args: str, env: dict[str, str]) -> subprocess.Popen:
    """A command whose log goes to a file (a pipe nobody reads would fill and stall it)."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "obfbroker", *args], env={**os.environ, **env},
                                stdout=subprocess.DEVNULL, stderr=out, preexec_fn=preexec())


def run_json(*args: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "obfbroker", *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"obfbroker {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def wait_ready(process: Process, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited: {process.log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{process.url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} not ready at {process.url}{path}")


@dataclass
class Customer:
    api_key: str
    account_id: str
    client_id: str
    client_secret: str


@dataclass
class Stack:
    """A simulator, ``serve`` processes over one database, optionally a worker."""

    database_url: str
    serve_count: int = 1
    with_worker: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    sim: Process | None = None
    serves: list[Process] = field(default_factory=list)
    worker: Process | None = None
    env: dict[str, str] = field(default_factory=dict)
    _exit: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exit.close()

    def _spawn(self, name: str, *args: str, ready: str | None, port: int | None = None) -> Process:
        url = f"http://127.0.0.1:{port}" if port else None
        log = LOGS / f"{name}-{secrets.token_hex(3)}.log"
        process = Process(name, obfbroker(log, *args, env=self.env), log, url)
        self._exit.callback(process.stop)
        if ready:
            wait_ready(process, ready)
        return process

    def _start(self) -> None:
        sim_port = free_port()
        key = subprocess.run([sys.executable, "-m", "obfbroker", "keys", "generate"],
                             capture_output=True, text=True, check=True).stdout.strip()
        self.env = {
            "OBFBROKER_DATABASE_URL": self.database_url, "OBFBROKER_ENCRYPTION_KEYS": key,
            "OBFBROKER_ZOOM_OAUTH_URL": f"http://127.0.0.1:{sim_port}",
            "OBFBROKER_ZOOM_API_URL": f"http://127.0.0.1:{sim_port}/v2",
            "OBFBROKER_LOG_LEVEL": os.environ.get("OBFBROKER_BENCH_LOG_LEVEL", "INFO"),
            "OBFBROKER_MEETING_ADAPTER": "zoomsim",
            **self.extra_env,
        }
        self.sim = self._spawn("zoomsim", "zoomsim", "--port", str(sim_port), ready="/_sim/healthz",
                               port=sim_port)
        subprocess.run([sys.executable, "-m", "obfbroker", "db", "upgrade"], env={**os.environ, **self.env},
                       check=True, capture_output=True)
        ports = [free_port() for _ in range(self.serve_count)]
        self.env["OBFBROKER_PUBLIC_URL"] = f"http://127.0.0.1:{ports[0]}"
        self.serves = [self._spawn(f"serve{i}", "serve", "--no-migrate", "--workers", "1",
                                   "--port", str(port), ready=None, port=port)
                       for i, port in enumerate(ports)]
        for process in self.serves:
            wait_ready(process, "/readyz")
        if self.with_worker:
            self.worker = self._spawn("worker", "worker", "--no-migrate", ready=None)

    # --- set-up a customer does ---
    def sim_post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.post(f"{self.sim.url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, **values: Any) -> None:
        self.sim_post("/_sim/faults", {"rate_5xx": 0, "rate_429": 0, "latency_ms": 0, **values})

    def sim_stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.sim.url}/_sim/stats", timeout=30).json()

    def new_customer(self, name: str = "bench") -> Customer:
        created = run_json("accounts", "create", "--name", name, env=self.env)
        client_id, client_secret = f"cid_{secrets.token_hex(6)}", secrets.token_urlsafe(24)
        self.sim_post("/_sim/apps", {"client_id": client_id, "client_secret": client_secret,
                                     "redirect_uris": [REDIRECT_URI], "scopes": SCOPES})
        response = httpx.put(f"{self.serves[0].url}/api/v1/zoom/oauth/app", timeout=30,
                             headers={"Authorization": f"Token {created['api_key']}"},
                             json={"client_id": client_id, "client_secret": client_secret})
        response.raise_for_status()
        return Customer(created["api_key"], created["account_id"], client_id, client_secret)

    def new_user(self, name: str) -> dict[str, Any]:
        return self.sim_post("/_sim/users", {"email": f"{name}-{secrets.token_hex(4)}@example.com",
                                             "display_name": name})

    def code_for(self, customer: Customer, user_id: str) -> str:
        return self.sim_post("/_sim/authorize", {"client_id": customer.client_id, "user_id": user_id,
                                                 "redirect_uri": REDIRECT_URI})["code"]

    async def connect_many(self, customer: Customer, count: int, concurrency: int = 16) -> list[str]:
        """``count`` new simulator users, each connected through the API; their Zoom user ids."""
        semaphore = asyncio.Semaphore(concurrency)
        headers = {"Authorization": f"Token {customer.api_key}"}
        async with httpx.AsyncClient(timeout=60) as http:
            async def one(i: int) -> str:
                async with semaphore:
                    user = (await http.post(f"{self.sim.url}/_sim/users", json={
                        "email": f"user{i}-{secrets.token_hex(4)}@example.com",
                        "display_name": f"User {i}"})).json()
                    code = (await http.post(f"{self.sim.url}/_sim/authorize", json={
                        "client_id": customer.client_id, "user_id": user["id"],
                        "redirect_uri": REDIRECT_URI})).json()["code"]
                    response = await http.post(f"{self.serves[0].url}/api/v1/zoom/oauth/connections",
                                               headers=headers,
                                               json={"code": code, "redirect_uri": REDIRECT_URI})
                    response.raise_for_status()
                    return user["id"]

            return list(await asyncio.gather(*(one(i) for i in range(count))))

    async def bots_for(self, customer: Customer, user_ids: Iterable[str],
                       concurrency: int = 16) -> list[dict[str, Any]]:
        """One bot per user, in a meeting that user hosts; the bots' launch specs."""
        semaphore = asyncio.Semaphore(concurrency)
        headers = {"Authorization": f"Token {customer.api_key}"}
        async with httpx.AsyncClient(timeout=60) as http:
            async def one(user_id: str) -> str:
                async with semaphore:
                    meeting = (await http.post(f"{self.sim.url}/_sim/meetings",
                                               json={"host_user_id": user_id})).json()
                    body = {"meeting_link": meeting["join_url"],
                            "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": user_id}}
                    response = await http.post(f"{self.serves[0].url}/api/v1/bots/create_bot",
                                               headers=headers, json=body)
                    response.raise_for_status()
                    return response.json()["bot_id"]

            bot_ids = await asyncio.gather(*(one(u) for u in user_ids))
        return await self.launch_specs(bot_ids)

    async def token_links(self, customer: Customer, user_id: str, meeting_number: str, count: int,
                          concurrency: int = 16) -> list[str]:
        """``count`` Meeting BaaS token links of one user, bound to one meeting; their obf URLs
        (on the first serve process)."""
        semaphore = asyncio.Semaphore(concurrency)
        headers = {"Authorization": f"Token {customer.api_key}"}
        body = {"zoom_user_id": user_id, "platform": "meetingbaas",
                "meeting_link": f"https://zoom.us/j/{meeting_number}"}
        async with httpx.AsyncClient(timeout=60) as http:
            async def one() -> str:
                async with semaphore:
                    response = await http.post(f"{self.serves[0].url}/api/v1/zoom/token-links",
                                               headers=headers, json=body)
                    response.raise_for_status()
                    return response.json()["urls"]["obf"]

            return list(await asyncio.gather(*(one() for _ in range(count))))

    async def launch_specs(self, bot_ids: list[str]) -> list[dict[str, Any]]:
        from obfbroker.bots.service import launch_spec
        from obfbroker.runtime import Runtime
        from obfbroker.settings import Settings

        settings = Settings(database_url=self.database_url,
                            encryption_keys=self.env["OBFBROKER_ENCRYPTION_KEYS"],
                            public_url=self.env["OBFBROKER_PUBLIC_URL"])
        runtime = await Runtime.start(settings)
        try:
            async with runtime.sessions() as session:
                return [(await launch_spec(session, runtime.hasher, bot_id)).as_dict() for bot_id in bot_ids]
        finally:
            await runtime.close()

    def direct_access_token(self, customer: Customer) -> tuple[str, str]:
        """A user connected by the benchmark itself, straight at the simulator: (access token,
        a meeting number), for the direct-to-Zoom arm."""
        user = self.new_user("Direct")
        code = self.code_for(customer, user["id"])
        grant = httpx.post(f"{self.sim.url}/oauth/token", auth=(customer.client_id, customer.client_secret),
                           data={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": REDIRECT_URI}, timeout=30)
        grant.raise_for_status()
        meeting = self.sim_post("/_sim/meetings", {"host_user_id": user["id"]})
        return grant.json()["access_token"], str(meeting["meeting_number"])
