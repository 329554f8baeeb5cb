"""The contract's CLI commands and the health endpoints."""

from __future__ import annotations

import json

import httpx

from obfbroker import __version__
from obfbroker.settings import decode_key
from tests.support.databases import TEST_KEY
from tests.support.http import TLS
from tests.support.processes import run_cli
from tests.support.stack import Stack


def test_accounts_create_prints_an_account_and_a_working_key(stack: Stack):
    env = {"OBFBROKER_DATABASE_URL": stack.settings.database_url, "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY}
    result = run_cli("accounts", "create", "--name", "Acme", env=env)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"account_id", "api_key"}
    with stack.client(created["api_key"]) as api:
        assert api.get("/api/v1/zoom/oauth/connections").status_code == 200
    assert created["api_key"] not in result.stderr


def test_keys_generate_prints_a_32_byte_key(tmp_path):
    result = run_cli("keys", "generate", env={})
    assert result.returncode == 0
    assert len(decode_key(result.stdout.strip())) == 32


def test_version_prints_the_package_version():
    result = run_cli("--version", env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"obfbroker {__version__}\n"


def test_db_upgrade_creates_the_schema_on_a_new_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    env = {"OBFBROKER_DATABASE_URL": url, "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY}
    result = run_cli("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "new.db").exists()


def test_production_without_keys_refuses_to_start(tmp_path):
    result = run_cli("accounts", "create", "--name", "x", env={
        "OBFBROKER_ENV": "production", "OBFBROKER_ENCRYPTION_KEYS": "",
        "OBFBROKER_PUBLIC_URL": "https://b.example.com",
        "OBFBROKER_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert result.returncode == 2
    assert "OBFBROKER_ENCRYPTION_KEYS must be set" in result.stderr


def test_health_readiness_and_metrics(stack: Stack):
    with httpx.Client(verify=TLS, base_url=stack.url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ok"}
        client.get("/api/v1/zoom/oauth/connections")
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert 'route="/api/v1/zoom/oauth/connections"' in metrics.text
        unknown = client.get("/no/such/path")
        assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
