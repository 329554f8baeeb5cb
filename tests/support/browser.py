"""Debian's headless Chromium driven by Python Playwright, for tests outside tests/dashboard
(whose conftest has fixtures of its own): skipped loudly on a machine without it, a failure in
CI, where .ci/run installs it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


def _no_browser(why: str) -> None:
    message = f"BROWSER TEST SKIPPED: install chromium ({why}; e.g. apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message.replace("SKIPPED", "CANNOT RUN IN CI"), pytrace=False)
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (a Playwright Browser), closed at the end of the block."""
    executable = shutil.which("chromium")
    if executable is None:
        _no_browser("no `chromium` on PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
