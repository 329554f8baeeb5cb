"""A demo-seeded simulator served on loopback once per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from obfbroker.zoomsim.app import create_app
from obfbroker.zoomsim.state import SimState
from tests.support.http import TLS
from tests.support.servers import serve_app


@pytest.fixture(scope="session")
def sim_server() -> Iterator[tuple[object, str]]:
    app = create_app("demo")
    with serve_app(app) as url:
        yield app, url


@pytest.fixture
def sim_state(sim_server) -> SimState:
    state: SimState = sim_server[0].state.sim
    state.reset()
    return state


@pytest.fixture
def base_url(sim_server, sim_state) -> str:
    return sim_server[1]


@pytest.fixture
def http(base_url) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=base_url, timeout=10) as client:
        yield client
