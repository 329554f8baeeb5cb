"""Start obfbroker's own commands as real processes for whole-stack tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.support.http import http_get
from tests.support.servers import free_port


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited: {process.stderr.read().decode()[-3000:]}")
        try:
            if http_get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready")


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "obfbroker", *args], env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(*args: str, env: dict[str, str], ready_url: str | None = None) -> Iterator[subprocess.Popen]:
    process = spawn(*args, env=env)
    try:
        if ready_url:
            wait_until_ready(ready_url, process)
        yield process
    finally:
        stop(process)


__all__ = ["free_port", "running", "spawn", "stop", "wait_until_ready"]
