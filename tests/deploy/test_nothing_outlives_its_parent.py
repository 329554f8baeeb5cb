"""Nothing we start outlives the process that started it, however that process dies.

``serve --workers N`` is a supervisor with N processes (and multiprocessing's resource tracker);
``dev`` starts the simulator, ``serve``, ``worker`` and the example app. Each is killed here with
SIGKILL, which it cannot catch: within 5 seconds none of its descendants may still run, its ports
must be free, and a new process must start on the same port. Processes are found from /proc
before the kill (after it they belong to init)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from obfbroker.devstack import port_is_free
from obfbroker.settings import generate_key
from tests.support.dev_stack import start_dev, stop_dev
from tests.support.processes import alive, command_line, descendants, free_port, spawn, stop, wait_until_ready
from tests.support.waiting import eventually

# The bound: a parent's death is the children's SIGTERM, and they stop as they do on it.
GONE_WITHIN = 5.0

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBFBROKER_")}
    return {**env, "OBFBROKER_DATABASE_URL": f"sqlite:///{tmp_path / 'obfbroker.db'}",
            "OBFBROKER_ENCRYPTION_KEYS": generate_key(), "OBFBROKER_LOG_LEVEL": "WARNING", **extra}


def kill_and_expect_no_survivors(process: subprocess.Popen, family: set[int], ports: list[int]) -> None:
    """SIGKILL ``process``; within GONE_WITHIN every process of ``family`` has exited and every
    port in ``ports`` can be bound again."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + GONE_WITHIN
    while time.monotonic() < deadline:
        left = {pid for pid in family if alive(pid)}
        taken = [port for port in ports if not port_is_free("127.0.0.1", port)]
        if not left and not taken:
            return
        time.sleep(0.05)
    survivors = {pid: command_line(pid) for pid in family if alive(pid)}
    for pid in survivors:  # leave nothing behind for the next test either
        os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"{GONE_WITHIN:g} s after its parent's SIGKILL: still running {survivors}, "
                         f"ports still taken {[p for p in ports if not port_is_free('127.0.0.1', p)]}")


def starts_again_on_the_port(env: dict[str, str], ready_url: str, *args: str) -> None:
    again = spawn(*args, env=env)
    try:
        wait_until_ready(ready_url, again)
    finally:
        stop(again)
    assert again.returncode == 0


def spawn_children(pid: int) -> list[int]:
    return [child for child in descendants(pid) if "multiprocessing" in command_line(child)]


def test_a_killed_serve_supervisor_takes_its_processes_and_the_port_with_it(tmp_path):
    env, port = environment(tmp_path), free_port()
    supervisor = spawn("serve", "--workers", "3", "--port", str(port), env=env)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", supervisor)
        # Three server processes and multiprocessing's resource tracker, all spawned by it.
        eventually(lambda: len(spawn_children(supervisor.pid)) >= 4, "the supervisor's processes", timeout=60)
        family = descendants(supervisor.pid)
        assert sum("resource_tracker" in command_line(pid) for pid in family) == 1, family
        kill_and_expect_no_survivors(supervisor, family, [port])
    finally:
        stop(supervisor)

    starts_again_on_the_port(env, f"http://127.0.0.1:{port}/readyz",
                             "serve", "--workers", "2", "--port", str(port))


def test_a_killed_worker_leaves_its_metrics_port_free_for_the_next(tmp_path):
    metrics = free_port()
    env = environment(tmp_path, OBFBROKER_WORKER_METRICS_PORT=str(metrics),
                      OBFBROKER_WORKER_POLL_SECONDS="0.2")
    worker = spawn("worker", env=env)
    try:
        wait_until_ready(f"http://127.0.0.1:{metrics}/healthz", worker)
        kill_and_expect_no_survivors(worker, descendants(worker.pid), [metrics])
    finally:
        stop(worker)

    starts_again_on_the_port(env, f"http://127.0.0.1:{metrics}/healthz", "worker", "--no-migrate")


def test_a_killed_dev_takes_the_whole_stack_with_it(tmp_path):
    dev = start_dev(tmp_path)
    try:
        family = descendants(dev.process.pid)
        commands = " | ".join(command_line(pid) for pid in family)
        for part in ("zoomsim", "serve", "worker", "resource_tracker"):
            assert part in commands, commands
        kill_and_expect_no_survivors(dev.process, family, [dev.port, dev.sim_port, dev.example_port])
    finally:
        stop_dev(dev)
