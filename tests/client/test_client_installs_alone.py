"""`pip install ./clients/python` gives the `obfbroker-client` distribution: its wheel, built from
the files a clean clone holds and installed alone into an empty virtualenv, needs only httpx,
ships py.typed, imports as `obfbroker_client` where the server is not installed, and talks to the
running API from that virtualenv. The server's wheel alone: tests/deploy/test_server_installs_alone.py."""

from __future__ import annotations

import ast
import json
import subprocess

import pytest

from tests.deploy.packaging import CLIENT, ROOT, checkout_copy, venv_with_wheels
from tests.support.customers import Customer
from tests.support.sim import REDIRECT_URI

# Run by the virtualenv's python: everything it prints is checked by the test.
SCRIPT = """
import importlib.util, json, sys
from importlib import metadata, resources

import obfbroker_client
from obfbroker_client import Connection, NotFoundError, ObfBrokerClient

url, key, code, redirect_uri = sys.argv[1:]
with ObfBrokerClient(url, key) as obf:
    connection = obf.create_connection(code, redirect_uri, metadata={"tenant_user_id": "u-1"})
    listed = [c.zoom_user_id for c in obf.list_connections().items]
    try:
        obf.get_connection("no-such-user")
        missing = None
    except NotFoundError as err:
        missing = err.code
print(json.dumps({
    "client_file": obfbroker_client.__file__,
    "server_importable": importlib.util.find_spec("obfbroker") is not None,
    "py_typed": resources.files(obfbroker_client).joinpath("py.typed").is_file(),
    "requires": metadata.requires("obfbroker-client"),
    "distributions": sorted(d.metadata["Name"].lower() for d in metadata.distributions()),
    "connected": isinstance(connection, Connection) and connection.zoom_user_id in listed,
    "metadata": connection.metadata,
    "missing": missing,
}))
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_client_installs_alone_and_calls_the_api_without_the_server(customer: Customer, tmp_path):
    python = venv_with_wheels([checkout_copy(CLIENT, tmp_path / "python")], tmp_path)
    user = customer.stack.sim.create_user("Dana")
    code = customer.stack.sim.authorize(customer.app, user["id"])
    result = subprocess.run([str(python), "-c", SCRIPT, customer.stack.url, customer.api_key, code,
                             REDIRECT_URI], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["client_file"].startswith(str(tmp_path / "venv"))  # the wheel's, not the copy's
    assert seen["server_importable"] is False
    assert seen["py_typed"] is True
    assert [r.split(">")[0].split("=")[0].strip() for r in seen["requires"]] == ["httpx"]
    assert "obfbroker" not in seen["distributions"] and "obfbroker-client" in seen["distributions"]
    assert seen["connected"] is True and seen["metadata"] == {"tenant_user_id": "u-1"}
    assert seen["missing"] == "zoom_user_not_connected"


def test_the_client_imports_nothing_of_the_server_and_the_server_reexports_it():
    for path in (CLIENT / "src" / "obfbroker_client").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n == "obfbroker" or n.startswith("obfbroker.")], path
    assert (CLIENT / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()

    import obfbroker.client
    import obfbroker.client.errors
    import obfbroker_client
    import obfbroker_client.errors

    assert obfbroker.client.ObfBrokerClient is obfbroker_client.ObfBrokerClient
    assert set(obfbroker.client.__all__) == set(obfbroker_client.__all__)
    assert obfbroker.client.errors.NotFoundError is obfbroker_client.errors.NotFoundError
