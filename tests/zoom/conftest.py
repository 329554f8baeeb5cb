from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import serve_app
from tests.zoom.fake_zoom import FakeZoom


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeZoom]:
    fake = FakeZoom()
    with serve_app(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture
def zoom(fake_server: FakeZoom) -> FakeZoom:
    fake_server.reset()
    return fake_server
