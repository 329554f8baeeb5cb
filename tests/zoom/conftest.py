from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import serve_app
from tests.zoom.fake_zoom import FakeZoom


@pytest.fixture
def zoom() -> Iterator[FakeZoom]:
    """A fake of its own per test: nothing a previous test left running (a delayed reply, a
    late request) can reach this one's recorded requests."""
    fake = FakeZoom()
    with serve_app(fake.app) as url:
        fake.url = url
        yield fake
