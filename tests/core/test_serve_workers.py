"""`obfbroker serve --workers N`: N processes answer on one port under a supervisor that
replaces a process that dies and stops them all on SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.databases import TEST_KEY
from tests.support.http import http_get
from tests.support.processes import free_port, spawn, stop, wait_until_ready


def children(pid: int) -> set[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def wait_for(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def workers_of(pid: int) -> set[int]:
    # uvicorn's supervisor also runs multiprocessing's resource tracker as a child: leave it out.
    return {child for child in children(pid)
            if "resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")}


def test_two_workers_share_the_port_are_replaced_when_killed_and_stop_together(tmp_path):
    port = free_port()
    env = {"OBFBROKER_DATABASE_URL": f"sqlite:///{tmp_path}/w.db", "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY,
           "OBFBROKER_LOG_LEVEL": "WARNING", "OBFBROKER_SERVE_WORKERS": "1"}
    parent = spawn("serve", "--port", str(port), "--workers", "2", env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/readyz", parent)
        wait_for(lambda: len(workers_of(parent.pid)) == 2, "two worker processes")
        first = workers_of(parent.pid)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: http_get(f"{url}/readyz").status_code, range(40)))
        assert statuses == [200] * 40

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(workers_of(parent.pid)) == 2 and victim not in workers_of(parent.pid),
                 "the killed process to be replaced")
        wait_until_ready(f"{url}/readyz", parent)

        running = workers_of(parent.pid)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
        for pid in running:
            wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists()
                     or "Z" in (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]),
                     f"worker {pid} to stop")
    finally:
        stop(parent)
