"""50 simultaneous mints for one connection whose access token expired: exactly one refresh,
every mint succeeds, the connection stays connected. Here in one process; across four ``serve``
processes in tests/e2e/test_races_across_serve_processes.py."""

from __future__ import annotations

import pytest

from tests.support.bot_checks import assert_one_refresh_and_all_minted
from tests.support.bot_scenes import Scene


@pytest.mark.parametrize("forced", [False, True], ids=["expired-by-clock", "killed-early-by-zoom"])
def test_fifty_mints_in_one_process_share_one_refresh(scene: Scene, forced: bool):
    assert_one_refresh_and_all_minted(scene, [scene.stack.url], forced=forced)
