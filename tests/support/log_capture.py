"""A logging handler that keeps every line it is given, formatted, in ``lines``: what the
``captured_logs`` fixture (tests/conftest.py) attaches to the root logger for a test."""

from __future__ import annotations

import logging


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
