"""Start obfbroker's own commands as real processes for whole-stack tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from obfbroker.lifeline import preexec
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
    """``obfbroker <args>`` as a child that dies with the test process (a killed pytest worker
    leaves no server behind)."""
    return subprocess.Popen([sys.executable, "-m", "obfbroker", *args], env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=preexec())


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


def _stat(pid: int) -> tuple[str, int] | None:
    """A process's state letter and parent pid, from /proc (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, ppid = text.rpartition(")")[2].split()[:2]  # the name, in brackets, may hold spaces
    return state, int(ppid)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``: children, theirs, and so on (Linux /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None and stat[0] != "Z":
            parents.setdefault(stat[1], []).append(int(entry))
    found, queue = set(), [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has exited: it holds no port and runs no code)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in "ZX"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


__all__ = ["alive", "command_line", "descendants", "free_port", "running", "spawn", "stop",
           "wait_until_ready"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``obfbroker <args>`` as an operator runs it, with ``env`` over this process's environment;
    its output captured."""
    return subprocess.run([sys.executable, "-m", "obfbroker", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
