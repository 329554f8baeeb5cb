"""Settings from OBFBROKER_* variables; development defaults refused in production."""

from __future__ import annotations

import re
import stat

import pytest

from obfbroker.settings import ConfigurationError, Settings, generate_key


def test_database_driver_is_chosen_from_the_scheme():
    assert Settings().database_url == "sqlite:///./var/obfbroker.db"
    assert Settings().async_database_url == "sqlite+aiosqlite:///./var/obfbroker.db"
    for url in ("postgresql://u@h/db", "postgresql+psycopg://u@h/db", "postgres://u@h/db"):
        settings = Settings(database_url=url)
        assert settings.async_database_url == "postgresql+psycopg://u@h/db"
    with pytest.raises(ConfigurationError):
        _ = Settings(database_url="mysql://u@h/db").async_database_url


def test_defaults_match_the_contract(monkeypatch):
    for name in ("DATABASE_URL", "ZOOM_OAUTH_URL", "ZOOM_API_URL", "PUBLIC_URL", "MEETING_ADAPTER",
                 "KEEPALIVE_DAYS", "ENV", "ENCRYPTION_KEYS"):
        monkeypatch.delenv(f"OBFBROKER_{name}", raising=False)
    settings = Settings()
    assert settings.zoom_oauth_url == "https://zoom.us"
    assert settings.zoom_api_url == "https://api.zoom.us/v2"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.keepalive_days == 30
    assert settings.meeting_adapter == "zoom_sdk"


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("OBFBROKER_PUBLIC_URL", "https://broker.example.com/")
    monkeypatch.setenv("OBFBROKER_KEEPALIVE_DAYS", "20")
    settings = Settings()
    assert settings.public_url == "https://broker.example.com"
    assert settings.keepalive_days == 20


def test_dev_key_file_is_made_only_on_request_once_with_mode_0600(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", encryption_keys="")
    path = tmp_path / "var" / "encryption.key"
    with pytest.raises(ConfigurationError, match=f"no development key file at {re.escape(str(path))};"):
        settings.key_material()
    assert not (tmp_path / "var").exists(), "reading the keys creates nothing (only `obfbroker dev` does)"
    assert settings.create_dev_key_file() == path
    first = settings.key_material()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.create_dev_key_file() == path, "an existing key file is kept"
    assert Settings(data_dir=tmp_path / "var", encryption_keys="").key_material() == first
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        Settings(data_dir=tmp_path / "var", encryption_keys="").key_material()


def test_production_refuses_development_defaults(tmp_path):
    prod = dict(env="production", data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="OBFBROKER_ENCRYPTION_KEYS must be set"):
        Settings(**prod, encryption_keys="", public_url="https://b.example.com").check_production_safety()
    assert not (tmp_path / "encryption.key").exists()
    with pytest.raises(ConfigurationError, match="https"):
        Settings(**prod, encryption_keys=generate_key()).check_production_safety()
    Settings(**prod, encryption_keys=generate_key(), public_url="https://b.example.com").check_production_safety()
    with pytest.raises(ConfigurationError, match="OBFBROKER_OUTBOUND_ALLOWED_HOSTS is for development"):
        Settings(**prod, encryption_keys=generate_key(), public_url="https://b.example.com",
                 outbound_allowed_hosts="127.0.0.1:5005").check_production_safety()
    Settings(**prod, encryption_keys=generate_key(), public_url="https://b.example.com",
             outbound_allowed_networks="10.20.0.0/16").check_production_safety()


@pytest.mark.parametrize("bad", ["short", "!!!notbase64!!!", "truncated", "spaces", "trailing comma",
                                 "empty middle", "second bad"])
def test_bad_keys_are_refused_without_echoing_them(bad):
    key = generate_key()  # made here so every test worker collects the same test ids
    value, expected = {
        "short": ("short", "key 1 of 1 is not valid base64url"),
        "!!!notbase64!!!": ("!!!notbase64!!!", "key 1 of 1 is not valid base64url"),
        "truncated": (key[:-4], "key 1 of 1 decodes to 29 bytes, not 32"),
        "spaces": (f"{key[:10]} {key[10:]}", "key 1 of 1 is not valid base64url"),
        "trailing comma": (f"{key},", "key 2 of 2 is empty"),
        "empty middle": (f"{key}, ,{key}", "key 2 of 3 is empty"),
        "second bad": (f"{key},{key[:-4]}", "key 2 of 2 decodes to 29 bytes"),
    }[bad]
    with pytest.raises(ConfigurationError, match=expected) as refused:
        Settings(encryption_keys=value).key_material()
    assert str(refused.value).startswith("OBFBROKER_ENCRYPTION_KEYS: ")
    assert key[:-4] not in str(refused.value) and "notbase64" not in str(refused.value)
    with pytest.raises(ConfigurationError, match=expected):
        Settings(encryption_keys=value).check_encryption_keys()


def test_database_url_problems_never_echo_the_url():
    for url in ("postgresql://u:hunter2@h:notaport/db", "hunter2", "postgresql://u:hunter2@[::1/db"):
        with pytest.raises(ConfigurationError, match="OBFBROKER_DATABASE_URL is not a") as refused:
            Settings(database_url=url).check_database_url()
        assert "hunter2" not in str(refused.value)
    settings = Settings(database_url="postgresql://u:hunter2@db.example:5433/app?sslpassword=x")
    assert settings.database_url_display == "postgresql://u:***@db.example:5433/app"
    assert Settings(database_url="sqlite:///rel/x.db").sqlite_path.is_absolute()
    assert Settings(database_url="sqlite://").sqlite_path is None
    assert Settings().database_url_is_default and not settings.database_url_is_default
    # An unescaped @ in the password would show its tail as the host: refused, echoing nothing.
    with pytest.raises(ConfigurationError, match="percent-encode") as refused:
        Settings(database_url="postgresql://u:hun@ter2@db.example/app").check_database_url()
    assert "ter2" not in str(refused.value)
    Settings(database_url="postgresql://u:hun%40ter2@db.example/app").check_database_url()


def test_tunables_have_defaults_and_bounds(monkeypatch):
    """What tests used to patch into modules is configuration: the token lock wait and the
    dashboard's search window."""
    for name in ("TOKEN_LOCK_WAIT_SECONDS", "DASHBOARD_SEARCH_WINDOW"):
        monkeypatch.delenv(f"OBFBROKER_{name}", raising=False)
    settings = Settings()
    assert settings.token_lock_wait_seconds == 30
    assert settings.dashboard_search_window == 10_000
    monkeypatch.setenv("OBFBROKER_TOKEN_LOCK_WAIT_SECONDS", "45")
    monkeypatch.setenv("OBFBROKER_DASHBOARD_SEARCH_WINDOW", "500")
    settings = Settings()
    assert (settings.token_lock_wait_seconds, settings.dashboard_search_window) == (45, 500)
    for bad in (dict(token_lock_wait_seconds=0), dict(dashboard_search_window=0)):
        with pytest.raises(ValueError):
            Settings(**bad)


def test_the_postgresql_pool_is_configurable(monkeypatch):
    for name in ("DATABASE_POOL_SIZE", "DATABASE_MAX_OVERFLOW"):
        monkeypatch.delenv(f"OBFBROKER_{name}", raising=False)
    settings = Settings()
    assert (settings.database_pool_size, settings.database_max_overflow) == (10, 20)
    monkeypatch.setenv("OBFBROKER_DATABASE_POOL_SIZE", "4")
    monkeypatch.setenv("OBFBROKER_DATABASE_MAX_OVERFLOW", "0")
    settings = Settings()
    assert (settings.database_pool_size, settings.database_max_overflow) == (4, 0)
    for bad in (dict(database_pool_size=0), dict(database_max_overflow=-1)):
        with pytest.raises(ValueError):
            Settings(**bad)


def test_trusted_proxies_are_addresses_or_ranges():
    settings = Settings(trusted_proxies=" 10.0.0.5, 10.1.0.0/16 ,::1,")
    assert settings.trusted_proxy_list == ["10.0.0.5", "10.1.0.0/16", "::1"]
    assert Settings().trusted_proxy_list == [], "none trusted unless named"
    for bad in ("*", "proxy.internal", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="not an IP address or CIDR range"):
            Settings(trusted_proxies=bad)


def test_outbound_allowances_are_hosts_and_ranges():
    from obfbroker.outbound import OutboundPolicy

    settings = Settings(outbound_allowed_hosts="localhost:5005, 127.0.0.1 ,[::1]:8080, Hooks.Local",
                        outbound_allowed_networks="10.20.0.0/16, fd00:1::/64")
    policy = OutboundPolicy.from_settings(settings)
    assert policy.allowed_hosts == {("localhost", 5005), ("127.0.0.1", None), ("::1", 8080),
                                    ("hooks.local", None)}
    assert policy.host_allowed("LOCALHOST", 5005) and not policy.host_allowed("localhost", 5006)
    assert policy.host_allowed("127.0.0.1", 1) and policy.host_allowed("hooks.local.", 443)
    assert [str(n) for n in policy.allowed_networks] == ["10.20.0.0/16", "fd00:1::/64"]
    for bad in ("localhost:0", "localhost:99999", "a host", "http://x", "[::1]:x"):
        with pytest.raises(ValueError):
            Settings(outbound_allowed_hosts=bad)
    with pytest.raises(ValueError, match="not an IP address or CIDR range"):
        Settings(outbound_allowed_networks="10.0.0.0/8,internal")
