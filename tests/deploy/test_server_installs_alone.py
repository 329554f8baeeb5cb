"""The server installs from its own directory or wheel alone (issue 23): its wheel, built from the
files a clean clone holds, goes into an empty virtualenv with its dependencies from the index and
nothing else of the repository (not the Python client, which is on no index), and the installed
``obfbroker`` prints its version, makes a key, and serves, package data included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tomllib

from obfbroker.lifeline import preexec
from tests.deploy.packaging import ROOT, checkout_copy, run, venv_with_wheels
from tests.support.http import http_get
from tests.support.processes import stop, wait_until_ready
from tests.support.servers import free_port

# Run by the virtualenv's python: everything it prints is checked by the test.
SCRIPT = """
import importlib.util, json
from importlib import metadata

import obfbroker

try:
    import obfbroker.client
    shim = None
except ImportError as err:
    shim = str(err)
print(json.dumps({
    "server_file": obfbroker.__file__,
    "client_importable": importlib.util.find_spec("obfbroker_client") is not None,
    "shim_error": shim,
    "requires": metadata.requires("obfbroker"),
    "distributions": sorted(d.metadata["Name"].lower() for d in metadata.distributions()),
}))
"""

# `obfbroker dev` run inside a checkout finds the example app there.
EXAMPLE_CHECK = """
from obfbroker.devstack import example_app_path
print(example_app_path())
"""

# Files the wheel must carry for these pages to answer (templates, static files, bundled docs UI).
PACKAGE_DATA_PAGES = ["/dashboard/signin", "/dashboard/static/dashboard.css", "/docs",
                      "/docs/static/swagger-ui-bundle.js"]


def test_the_server_wheel_installs_alone_and_serves_without_the_client(tmp_path):
    checkout = checkout_copy(ROOT, tmp_path / "checkout")
    python = venv_with_wheels([checkout], tmp_path)
    venv_bin = python.parent
    home = tmp_path / "home"
    home.mkdir()
    # Only what the commands need: nothing of this test run's environment or work tree.
    env = {"PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}", "HOME": str(home)}

    seen = json.loads(run([python, "-c", SCRIPT], cwd=home, env=env).stdout)
    assert seen["server_file"].startswith(str(tmp_path / "venv"))
    assert seen["client_importable"] is False and "obfbroker-client" not in seen["distributions"]
    assert not [r for r in seen["requires"] if r.startswith("obfbroker")], seen["requires"]
    assert "pip install ./clients/python" in seen["shim_error"], seen["shim_error"]

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    obfbroker = venv_bin / "obfbroker"
    assert run([obfbroker, "--version"], cwd=home, env=env).stdout.strip() == f"obfbroker {version}"
    key = run([obfbroker, "keys", "generate"], cwd=home, env=env).stdout.strip()
    env |= {"OBFBROKER_ENV": "production", "OBFBROKER_PUBLIC_URL": "https://obf.example.com",
            "OBFBROKER_ENCRYPTION_KEYS": key,
            "OBFBROKER_DATABASE_URL": f"sqlite:///{tmp_path / 'obfbroker.db'}"}
    port = free_port()
    process = subprocess.Popen([str(obfbroker), "serve", "--port", str(port), "--workers", "1"],
                               cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               preexec_fn=preexec())
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", process)  # migrated the new database
        for path in PACKAGE_DATA_PAGES:
            assert http_get(f"http://127.0.0.1:{port}{path}").status_code == 200, path
    finally:
        stop(process)
    # uvicorn ends by re-raising the SIGTERM it handled, after its clean shutdown.
    assert process.returncode in {0, -signal.SIGTERM}, process.stderr.read().decode()[-2000:]


    # `obfbroker dev` inside a checkout finds the example app there; without the client it leaves
    # it out and says why, rather than start it and fail on its first import.
    done = run([python, "-c", EXAMPLE_CHECK], cwd=checkout, env=env)
    assert done.stdout.strip() == "None", done.stdout
    assert "pip install ./clients/python" in done.stderr
