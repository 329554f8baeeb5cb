"""At INFO a token mint costs one log line (the access log), not one more per Zoom call from
httpx; at DEBUG httpx's request lines come back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from obfbroker.logs import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in ("httpx", "httpcore")})
    try:
        yield
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize(("level", "httpx_lines"), [("INFO", False), ("WARNING", False), ("DEBUG", True)])
def test_httpx_request_lines_only_at_debug(restored_logging, level: str, httpx_lines: bool):
    configure_logging(level)
    assert logging.getLogger("httpx").isEnabledFor(logging.INFO) is httpx_lines
