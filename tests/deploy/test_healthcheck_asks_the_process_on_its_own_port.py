"""`obfbroker healthcheck` (the image's HEALTHCHECK and compose's) asks whichever process wrote
OBFBROKER_STATUS_FILE, on the port that process really listens on: serve on a port that is not
8000, a worker's metrics port, the simulator's. It exits 0 or 1 only (a container engine reads
any other code as "reserved"), with one line saying what it asked.

Real processes on free ports, each with its own status file; no container (deploy/image-smoke
runs the same checks in the built image)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.databases import TEST_KEY
from tests.support.processes import running, spawn, stop, wait_until_ready
from tests.support.servers import free_port


def healthcheck(status_file: Path | None, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OBFBROKER_STATUS_FILE"}
    if status_file is not None:
        env["OBFBROKER_STATUS_FILE"] = str(status_file)
    result = subprocess.run([sys.executable, "-m", "obfbroker", "healthcheck", *args], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode in {0, 1}, result
    return result


def app_env(tmp_path: Path, status_file: Path) -> dict[str, str]:
    return {"OBFBROKER_DATABASE_URL": f"sqlite:///{tmp_path / 'obfbroker.db'}",
            "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY, "OBFBROKER_STATUS_FILE": str(status_file)}


def test_serve_on_a_port_of_its_own_is_found_alive_and_ready_and_then_gone(tmp_path):
    status, port = tmp_path / "status.json", free_port()
    process = spawn("serve", "--host", "0.0.0.0", "--port", str(port), env=app_env(tmp_path, status))
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", process)
        # What it wrote: the loopback address for the wildcard host, the port it bound.
        written = json.loads(status.read_text())
        assert written == {"command": "serve", "pid": process.pid,
                           "live": f"http://127.0.0.1:{port}/healthz", "ready": f"http://127.0.0.1:{port}/readyz"}
        alive, who = healthcheck(status), f"serve (pid {process.pid})"
        assert alive.returncode == 0, alive
        assert alive.stdout.strip() == f"{who}: http://127.0.0.1:{port}/healthz answered 200"
        ready = healthcheck(status, "--ready")
        assert ready.returncode == 0 and f":{port}/readyz answered 200" in ready.stdout, ready
    finally:
        stop(process)
    gone = healthcheck(status)
    assert gone.returncode == 1 and gone.stderr.strip() == f"{who} is not running any more"


def test_a_worker_is_asked_on_its_metrics_port_or_only_for_its_pid_without_one(tmp_path):
    status, metrics_port = tmp_path / "status.json", free_port()
    env = {**app_env(tmp_path, status), "OBFBROKER_WORKER_METRICS_PORT": str(metrics_port)}
    with running("worker", env=env, ready_url=f"http://127.0.0.1:{metrics_port}/healthz") as worker:
        result = healthcheck(status)
        assert result.returncode == 0, result
        url = f"http://127.0.0.1:{metrics_port}/healthz"
        assert result.stdout.strip() == f"worker (pid {worker.pid}): {url} answered 200"
        assert healthcheck(status, "--ready").returncode == 0  # a worker has no readiness of its own
    # With its metrics turned off it has no port: alive is all there is to know.
    status.unlink()
    with running("worker", env={**env, "OBFBROKER_WORKER_METRICS_PORT": "0"}) as worker:
        wait_for_file(status, worker)
        result = healthcheck(status)
        assert result.returncode == 0, result
        assert result.stdout.strip() == f"worker (pid {worker.pid}) is running (it has no HTTP port to ask)"


def test_the_simulator_is_asked_on_its_port_and_an_unwritable_status_file_does_not_stop_it(tmp_path):
    status, port = tmp_path / "status.json", free_port()
    with running("zoomsim", "--port", str(port), env={"OBFBROKER_STATUS_FILE": str(status)},
                 ready_url=f"http://127.0.0.1:{port}/_sim/healthz") as sim:
        result = healthcheck(status)
        assert result.returncode == 0, result
        url = f"http://127.0.0.1:{port}/_sim/healthz"
        assert result.stdout.strip() == f"zoomsim (pid {sim.pid}): {url} answered 200"
    # A status file it cannot write (here: under a regular file) is logged, and the process runs.
    blocked = tmp_path / "a-file" / "status.json"
    blocked.parent.write_text("")
    port = free_port()
    with running("zoomsim", "--port", str(port), env={"OBFBROKER_STATUS_FILE": str(blocked)},
                 ready_url=f"http://127.0.0.1:{port}/_sim/healthz") as sim:
        result = healthcheck(blocked)
        assert result.returncode == 1 and result.stderr.startswith(f"no status file at {blocked} yet"), result
    assert f"cannot write the status file {blocked}" in sim.stderr.read().decode()


def test_without_an_answer_it_says_why_and_exits_1(tmp_path):
    unset = healthcheck(None)
    assert unset.returncode == 1 and unset.stderr.startswith("OBFBROKER_STATUS_FILE is not set"), unset
    missing = healthcheck(tmp_path / "none.json")
    assert missing.returncode == 1 and "no status file at" in missing.stderr, missing
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert healthcheck(broken).returncode == 1
    # A file left by an earlier run of the container: the pid may well be alive again (here: this
    # test's own), but nothing answers on the port yet.
    stale, base = tmp_path / "stale.json", f"http://127.0.0.1:{free_port()}"
    stale.write_text(json.dumps({"command": "serve", "pid": os.getpid(), "live": f"{base}/healthz",
                                 "ready": f"{base}/readyz"}))
    refused = healthcheck(stale, "--timeout", "2")
    assert refused.returncode == 1, refused
    assert refused.stderr.startswith(f"serve (pid {os.getpid()}): {base}/healthz did not answer"), refused
    not_http = tmp_path / "not-http.json"
    not_http.write_text(json.dumps({"command": "serve", "pid": os.getpid(), "live": "file:///etc/passwd"}))
    assert healthcheck(not_http).returncode == 1


def wait_for_file(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.1)
