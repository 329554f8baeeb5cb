"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), the Zoom
simulator and the obfbroker API, each served over real HTTP on loopback."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from obfbroker.app import create_app
from obfbroker.db.migrate import upgrade
from obfbroker.settings import Settings
from obfbroker.zoomsim.app import create_app as create_sim_app
from tests.support.bot_scenes import Scene, make_scene
from tests.support.databases import POSTGRES_URL, TEST_KEY, new_postgres_database
from tests.support.log_capture import LogCapture
from tests.support.servers import serve_app
from tests.support.sim import SimControl
from tests.support.stack import Stack, make_settings

# Every `serve` a test starts (directly or through `dev`) is one process unless the test says
# otherwise: four test workers on two cores, each `serve` forking one per CPU, would crowd them.
os.environ["OBFBROKER_SERVE_WORKERS"] = "1"


def pytest_report_header(config) -> str:
    if POSTGRES_URL:
        return "PostgreSQL tests: ON (OBFBROKER_TEST_POSTGRES_URL is set)"
    return ("PostgreSQL tests: SKIPPED (set OBFBROKER_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test, to run them)")


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


@pytest.fixture
def scene(stack: Stack) -> Iterator[Scene]:
    """A customer with Alice connected and a meeting she hosts (tests/support/bot_scenes.py):
    here, not in tests/bots, since tests of other folders (core, e2e) use it too."""
    made = make_scene(stack)
    yield made
    made.customer.api.close()
