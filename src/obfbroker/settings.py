"""Service settings: one class, read from ``OBFBROKER_*`` environment variables."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite:///./var/obfbroker.db"
DEV_KEY_FILE = "encryption.key"
_KEY_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class MeetingAdapter(StrEnum):
    ZOOM_SDK = "zoom_sdk"
    ZOOMSIM = "zoomsim"


class ConfigurationError(RuntimeError):
    """Settings that must not be used; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OBFBROKER_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_SQLITE_URL
    encryption_keys: str = ""
    zoom_oauth_url: str = "https://zoom.us"
    zoom_api_url: str = "https://api.zoom.us/v2"
    public_url: str = "http://127.0.0.1:8000"
    meeting_adapter: MeetingAdapter = MeetingAdapter.ZOOM_SDK
    keepalive_days: int = Field(default=30, ge=1, le=80)
    data_dir: Path = Path("./var")
    log_level: str = "INFO"
    keepalive_interval_seconds: float = Field(default=60.0, gt=0)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    # How long a worker's claim on a bot lasts without renewal (a crashed worker's bots wait this long).
    bot_lease_seconds: float = Field(default=30.0, ge=2, le=600)
    # Join pacing while the authorizing user is absent (runner/pacing.py): the first wait, then
    # doubling until the steady range, where each wait is drawn between min and max.
    join_retry_initial_seconds: float = Field(default=3.0, gt=0)
    join_retry_steady_min_seconds: float = Field(default=40.0, gt=0)
    join_retry_steady_max_seconds: float = Field(default=60.0, gt=0)
    # How long a bot waits for its authorizing user(s) unless the bot says otherwise
    # (automatic_leave.waiting_for_authorizing_user_timeout, or waiting_room_timeout).
    waiting_for_authorizing_user_timeout_seconds: float = Field(default=1200.0, gt=0)
    # Tokens a bot may mint for its join attempts, all candidates together (sized for 20 minutes).
    bot_max_tokens: int = Field(default=35, ge=1, le=1000)
    # How long a customer's webhook endpoint or callback_url has to answer one delivery.
    webhook_send_timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    # How long a retried request waits for the first one with the same code or Idempotency-Key.
    duplicate_request_wait_seconds: float = Field(default=30.0, gt=0, le=120)
    # Zoom calls must time out well before a lock waiter gives up (see design.md).
    zoom_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # How long a token refresh waits for another process's refresh of the same connection
    # (PostgreSQL lock_timeout); keep it longer than zoom_timeout_seconds.
    token_lock_wait_seconds: int = Field(default=30, ge=1, le=600)
    # Database connections one process may hold: pool_size kept open, max_overflow more under
    # load. Every serve and worker process has its own pool: on PostgreSQL keep the sum under the
    # server's max_connections (100 by default). On SQLite each connection is a thread.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=20, ge=0, le=200)
    # A refresh or mint that succeeds after failures that started at least this long ago
    # announces zoom_oauth_connection.recovered (shorter blips stay quiet).
    connection_recovery_after_seconds: float = Field(default=300.0, ge=0)
    # Rows of one account a dashboard search reads per request (dashboard/repository.py).
    dashboard_search_window: int = Field(default=10_000, ge=1, le=1_000_000)
    # Where `obfbroker worker` serves /metrics (port 0: not at all). Not 9100: node_exporter's.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=8001, ge=0, le=65535)
    # How long the gauges read from the database at scrape time are reused (gauges.py).
    metrics_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    # Calls a token link answers per minute (all calls that pass authentication count); over it: 429.
    token_link_calls_per_minute: int = Field(default=30, ge=1, le=100_000)
    # Request bodies larger than this are refused with 413 (request_guard.py); Zoom's webhook: 64 KiB.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    # Processes `obfbroker serve` runs on its one port (`--workers` overrides); default: the CPUs.
    serve_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    # Customers' URLs we connect to (outbound.py). Hosts that may be named over plain http and
    # reach any address, for development: comma-separated host or host:port.
    outbound_allowed_hosts: str = ""
    # Ranges customers' https URLs may reach besides public addresses: comma-separated CIDRs.
    outbound_allowed_networks: str = ""
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: comma-separated
    # addresses or CIDR ranges. None by default: the connecting peer is the client.
    trusted_proxies: str = ""

    @field_validator("outbound_allowed_hosts")
    @classmethod
    def _hosts(cls, value: str) -> str:
        from obfbroker.outbound import parse_host_entry

        for item in _items(value):
            parse_host_entry(item)
        return value

    @field_validator("trusted_proxies", "outbound_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in _items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item[:60]!r} is not an IP address or CIDR range "
                                 "(e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return value

    @field_validator("zoom_oauth_url", "zoom_api_url", "public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _items(self.trusted_proxies)

    @property
    def outbound_allowed_host_list(self) -> list[str]:
        return _items(self.outbound_allowed_hosts)

    @property
    def outbound_allowed_network_list(self) -> list[str]:
        return _items(self.outbound_allowed_networks)

    @property
    def is_production(self) -> bool:
        return self.env == Environment.PRODUCTION

    @cached_property
    def async_database_url(self) -> str:
        """The database URL with the async driver chosen from its scheme."""
        return _with_driver(self.database_url, sqlite="sqlite+aiosqlite", postgres="postgresql+psycopg")

    @cached_property
    def sync_database_url(self) -> str:
        """The same database for synchronous tools (migrations)."""
        return _with_driver(self.database_url, sqlite="sqlite", postgres="postgresql+psycopg")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def database_url_is_default(self) -> bool:
        """True when OBFBROKER_DATABASE_URL was not given (the dev database under ./var)."""
        return "database_url" not in self.model_fields_set

    def check_database_url(self) -> None:
        """Refuse a database URL that can't be parsed, without echoing it (it may hold a password)."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        _ = self.async_database_url
        try:
            url = make_url(self.database_url)
        except (ArgumentError, ValueError):
            raise ConfigurationError(
                "OBFBROKER_DATABASE_URL is not a valid database URL; expected "
                "sqlite:///path/to/file.db or postgresql://user:password@host:port/database") from None
        if url.host and "@" in url.host:
            # An unescaped @ in the password: the rest of the password would read as the host
            # (and be shown in messages as one).
            raise ConfigurationError(
                "OBFBROKER_DATABASE_URL has an @ after the host's start; percent-encode special "
                "characters in the user name and password (@ is %40)")

    @property
    def database_url_display(self) -> str:
        """The database URL for messages: password masked, query dropped."""
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.database_url).set(query={}).render_as_string(hide_password=True)
        except ValueError:  # ArgumentError is a ValueError too
            return "OBFBROKER_DATABASE_URL"

    @property
    def sqlite_path(self) -> Path | None:
        """The absolute path of a file-backed SQLite database (None for PostgreSQL or memory)."""
        if not self.is_sqlite:
            return None
        from sqlalchemy.engine import make_url

        database = make_url(self.database_url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database).expanduser().resolve()

    @property
    def dev_key_path(self) -> Path:
        """The development key file, ``<data_dir>/encryption.key``, as an absolute path."""
        return (self.data_dir / DEV_KEY_FILE).resolve()

    def key_material(self) -> list[bytes]:
        """Encryption keys, first one encrypts: OBFBROKER_ENCRYPTION_KEYS, else the dev key file.

        Never creates the key file (only `obfbroker dev` does, ``create_dev_key_file``): a
        command run from another folder fails instead of sealing secrets under a new key.
        """
        if self.encryption_keys.strip():
            return decode_keys(self.encryption_keys)
        if self.is_production:
            raise ConfigurationError(
                "OBFBROKER_ENCRYPTION_KEYS must be set when OBFBROKER_ENV=production "
                "(the development key file is refused); create one with `obfbroker keys generate`"
            )
        return [self._read_dev_key()]

    def check_encryption_keys(self) -> None:
        """Refuse a malformed OBFBROKER_ENCRYPTION_KEYS early, even where no key is needed."""
        if self.encryption_keys.strip():
            decode_keys(self.encryption_keys)

    def check_production_safety(self) -> None:
        """Refuse development defaults in production (fail closed)."""
        if not self.is_production:
            return
        self.key_material()
        if urlsplit(self.public_url).scheme != "https":
            raise ConfigurationError(
                "OBFBROKER_PUBLIC_URL must be an https URL when OBFBROKER_ENV=production: "
                "bots fetch tokens from it"
            )
        if self.outbound_allowed_host_list:
            raise ConfigurationError(
                "OBFBROKER_OUTBOUND_ALLOWED_HOSTS is for development (plain http, any address) and is "
                "refused when OBFBROKER_ENV=production; to let customers' https URLs reach an internal "
                "range, name it in OBFBROKER_OUTBOUND_ALLOWED_NETWORKS"
            )

    def _read_dev_key(self) -> bytes:
        path = self.dev_key_path
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ConfigurationError(
                f"no encryption key: OBFBROKER_ENCRYPTION_KEYS is not set and there is no development "
                f"key file at {path}; run this from the project folder, run `obfbroker dev` once to "
                "create it, or set OBFBROKER_ENCRYPTION_KEYS (`obfbroker keys generate` prints a key)"
            ) from None
        if mode & 0o077:
            raise ConfigurationError(f"{path} must not be readable by others (chmod 600)")
        try:
            return decode_key(path.read_text().strip())
        except OSError as err:
            raise ConfigurationError(f"cannot read the development key file {path} "
                                     f"({err.strerror}); check its owner and mode") from None
        except ConfigurationError:
            raise ConfigurationError(f"the development key file {path} does not hold a valid key; "
                                     "restore it or set OBFBROKER_ENCRYPTION_KEYS") from None

    def create_dev_key_file(self) -> Path:
        """Create ``data_dir`` and the development key file (mode 0600) unless it exists.

        Only `obfbroker dev` calls this; every other command reads the file or fails.
        """
        path = self.dev_key_path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key() + "\n")
        return path


def _items(value: str) -> list[str]:
    """The entries of a comma-separated setting (blank ones ignored)."""
    return [item.strip() for item in value.split(",") if item.strip()]


def generate_key() -> str:
    """A new random 32-byte key, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def decode_key(text: str) -> bytes:
    """One base64url key of 32 bytes; the error never contains the key."""
    try:
        return _decode_key(text)
    except ValueError as err:
        raise ConfigurationError(f"an encryption key {err}") from None


def decode_keys(value: str) -> list[bytes]:
    """The comma-separated keys of OBFBROKER_ENCRYPTION_KEYS; an empty item is an error."""
    items = value.split(",")
    keys = []
    for number, item in enumerate(items, 1):
        where = f"OBFBROKER_ENCRYPTION_KEYS: key {number} of {len(items)}"
        if not item.strip():
            raise ConfigurationError(f"{where} is empty; separate keys with single commas")
        try:
            keys.append(_decode_key(item.strip()))
        except ValueError as err:
            raise ConfigurationError(f"{where} {err}; `obfbroker keys generate` prints a valid "
                                     "key") from None
    return keys


def _decode_key(text: str) -> bytes:
    bare = text.rstrip("=")
    try:
        if not _KEY_TEXT.fullmatch(text):
            raise ValueError
        key = base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except ValueError:
        raise ValueError("is not valid base64url (letters, digits, - and _)") from None
    if len(key) != 32:
        raise ValueError(f"decodes to {len(key)} bytes, not 32")
    return key


def _with_driver(url: str, *, sqlite: str, postgres: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigurationError("OBFBROKER_DATABASE_URL is not a URL; expected "
                                 "sqlite:///path/to/file.db or postgresql://user:password@host/database")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"{sqlite}://{rest}"
    if base in {"postgresql", "postgres"}:
        return f"{postgres}://{rest}"
    raise ConfigurationError(f"unsupported database scheme {scheme!r}: use sqlite or postgresql")
