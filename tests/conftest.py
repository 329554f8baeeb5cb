"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), the Zoom
simulator and the obfbroker API, each served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from obfbroker.app import create_app
from obfbroker.db.migrate import upgrade
from obfbroker.settings import Settings, generate_key
from obfbroker.zoomsim.app import create_app as create_sim_app
from tests.support.http import TLS
from tests.support.servers import serve_app
from tests.support.sim import SimControl

POSTGRES_URL = os.environ.get("OBFBROKER_TEST_POSTGRES_URL")
TEST_KEY = generate_key()
# Every `serve` a test starts (directly or through `dev`) is one process unless the test says
# otherwise: four test workers on two cores, each `serve` forking one per CPU, would crowd them.
os.environ["OBFBROKER_SERVE_WORKERS"] = "1"


def pytest_report_header(config) -> str:
    if POSTGRES_URL:
        return "PostgreSQL tests: ON (OBFBROKER_TEST_POSTGRES_URL is set)"
    return ("PostgreSQL tests: SKIPPED (set OBFBROKER_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test, to run them)")


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def new_postgres_database(template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own (a copy of ``template`` when given), dropped when the
    block ends."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set OBFBROKER_TEST_POSTGRES_URL to run this test")
    name = f"obfbroker_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_dsn(POSTGRES_URL)
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The databases every test of a session (per xdist worker) shares; their API servers are shared too.
SHARED_DATABASES: set[str] = set()


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    with new_postgres_database() as url:
        SHARED_DATABASES.add(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'obfbroker.db'}"
    SHARED_DATABASES.add(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """Each test using this runs once per backend; the schema is migrated once per session."""
    url = request.getfixturevalue(f"{request.param}_database")
    migrated = request.config.__dict__.setdefault("_obf_migrated", set())
    if url not in migrated:
        upgrade(Settings(database_url=url, encryption_keys=TEST_KEY))
        migrated.add(url)
    return url


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory) -> Iterator[dict[str, str]]:
    """Migrated empty databases, made once per test worker, that fresh databases are copied
    from (running the migrations for every such test was most of its setup)."""
    templates: dict[str, str] = {}
    with ExitStack() as made:
        sqlite_path = tmp_path_factory.mktemp("template") / "migrated.db"
        upgrade(Settings(database_url=f"sqlite:///{sqlite_path}", encryption_keys=TEST_KEY))
        templates["sqlite"] = str(sqlite_path)
        if POSTGRES_URL:
            url = made.enter_context(new_postgres_database())
            upgrade(Settings(database_url=url, encryption_keys=TEST_KEY))
            templates["postgresql"] = url.rsplit("/", 1)[1]
        yield templates


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request, tmp_path) -> Iterator[str]:
    """A migrated database used by this test alone (for tests that change global state)."""
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set OBFBROKER_TEST_POSTGRES_URL to run this test")
    templates = request.getfixturevalue("migrated_templates")
    if request.param == "sqlite":
        path = tmp_path / "own.db"
        shutil.copyfile(templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    with new_postgres_database(template=templates["postgresql"]) as url:
        yield url


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[SimControl]:
    app = create_sim_app()
    with serve_app(app) as base_url:
        control = SimControl(base_url, app)
        yield control
        control.close()


@pytest.fixture
def sim(shared_sim: SimControl) -> SimControl:
    """The simulator, forgotten between tests (users, apps, meetings, clock, faults, stats): one
    server per test worker, since starting one per test was most of the suite's time."""
    shared_sim.app.state.sim.reset()
    return shared_sim


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    """Every log line the process emits during the test, at DEBUG and above."""
    from obfbroker.logs import JsonFormatter, RedactingFilter

    handler = LogCapture()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@dataclass
class Stack:
    """The API served on loopback, talking to the simulator."""

    url: str
    settings: Settings
    sim: SimControl

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Token {api_key}"} if api_key else {}
        return httpx.Client(verify=TLS, base_url=self.url, headers=headers, timeout=30)

    def create_account(self, name: str = "test") -> tuple[str, str]:
        from obfbroker.accounts.service import create_account
        from obfbroker.db.session import transaction
        from obfbroker.runtime import Runtime

        async def work() -> tuple[str, str]:
            runtime = await Runtime.start(self.settings)
            try:
                async with transaction(runtime.sessions) as session:
                    account, key = await create_account(session, runtime.hasher, name=name)
                    return account.id, key
            finally:
                await runtime.close()

        return asyncio.run(work())


def make_settings(database_url: str, sim: SimControl, **overrides) -> Settings:
    values = dict(database_url=database_url, encryption_keys=TEST_KEY,
                  zoom_oauth_url=sim.url, zoom_api_url=f"{sim.url}/v2",
                  public_url="http://127.0.0.1:8000", zoom_timeout_seconds=5,
                  # Four test workers, their servers and the e2e processes share one PostgreSQL
                  # (max_connections 100): pools of at most 20 keep them under it at their usual peaks (a
                  # request that owns an Idempotency-Key holds two for a moment: its own and the claim's).
                  database_pool_size=5, database_max_overflow=15,
                  # The tests' webhook receivers and token servers listen on loopback over plain
                  # http: this deployment allows that host, as `obfbroker dev` allows its ports.
                  outbound_allowed_hosts="127.0.0.1")
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def shared_servers() -> Iterator[dict[str, Stack]]:
    """API servers over the shared databases, started on first use, stopped with the session."""
    servers: dict[str, Stack] = {}
    with ExitStack() as running:
        servers["_exit"] = running  # type: ignore[assignment]
        yield servers


@pytest.fixture
def stack(database_url: str, sim: SimControl, shared_servers: dict) -> Iterator[Stack]:
    """The API on loopback. Over a shared database the server is shared by the worker's tests
    (every test has accounts of its own); over a database of its own, a server of its own."""
    if database_url in SHARED_DATABASES:
        if database_url not in shared_servers:
            settings = make_settings(database_url, sim)
            url = shared_servers["_exit"].enter_context(serve_app(create_app(settings)))
            shared_servers[database_url] = Stack(url=url, settings=settings, sim=sim)
        yield shared_servers[database_url]
        return
    settings = make_settings(database_url, sim)
    with serve_app(create_app(settings)) as url:
        yield Stack(url=url, settings=settings, sim=sim)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
