from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack
from tests.support.token_links import LinkScene, link_scene


@pytest.fixture
def links(stack: Stack) -> Iterator[LinkScene]:
    scene = link_scene(stack)
    yield scene
    scene.api.close()
