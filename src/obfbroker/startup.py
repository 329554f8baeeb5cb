"""What a command checks before it starts, and how its failures read.

Every configuration or startup failure of the ``obfbroker`` command is one line on stderr,
``obfbroker: <what is wrong>; <what to do>``, and a non-zero exit (2: the configuration is wrong,
1: the world is, e.g. the database can't be reached or the port is taken). ``--debug`` (or
``OBFBROKER_DEBUG=1``) prints the traceback above it. Lines never carry a secret: database URLs
have their password masked and keys are never echoed.

Only `obfbroker dev` creates ``./var`` and the development key; every other command checks that
what it would use exists and says where it looked (``require_database``, ``Settings.key_material``).
"""

from __future__ import annotations

import errno
import socket

from obfbroker.logs import redact
from obfbroker.settings import ConfigurationError, Settings

CONFIGURATION_EXIT = 2
FAILURE_EXIT = 1


class StartupError(Exception):
    """A failure whose message is the whole story (one line)."""

    def __init__(self, message: str, exit_code: int = FAILURE_EXIT):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def require_sqlite(settings: Settings, *, may_create: bool) -> None:
    """Fail unless the SQLite file a command would use exists (or, for commands that migrate, a
    file the user named can be created in an existing folder). The default ``./var`` database
    must exist: only `obfbroker dev` creates it."""
    path = settings.sqlite_path
    if path is None or path.is_file():
        return
    if path.exists():
        raise StartupError(f"the SQLite database {path} is not a file; check OBFBROKER_DATABASE_URL",
                           CONFIGURATION_EXIT)
    if settings.database_url_is_default:
        raise StartupError(
            f"no database at {path} (the default OBFBROKER_DATABASE_URL, {settings.database_url}, "
            "is relative to the current folder); run this from the project folder, run `obfbroker dev` "
            "once to create it, or set OBFBROKER_DATABASE_URL", CONFIGURATION_EXIT)
    if not may_create:
        raise StartupError(f"the SQLite database {path} does not exist; create it with `obfbroker db "
                           "upgrade` or check OBFBROKER_DATABASE_URL", CONFIGURATION_EXIT)
    if not path.parent.is_dir():
        raise StartupError(f"cannot create the SQLite database {path}: the folder {path.parent} does "
                           "not exist; create it or check OBFBROKER_DATABASE_URL", CONFIGURATION_EXIT)


def require_database(settings: Settings, *, may_create: bool) -> None:
    """The database a command will use is there: the SQLite file (``require_sqlite``), or a
    PostgreSQL server that accepts a connection. Checked before migrations or the app are even
    imported, so a wrong URL fails fast, and never inside uvicorn."""
    if settings.is_sqlite:
        require_sqlite(settings, may_create=may_create)
    else:
        check_database_reachable(settings)


def check_database_reachable(settings: Settings) -> None:
    """Connect once and disconnect."""
    from sqlalchemy import create_engine, pool

    from obfbroker.db.session import POSTGRES_CONNECT_TIMEOUT_SECONDS

    engine = create_engine(settings.sync_database_url, poolclass=pool.NullPool,
                           connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS})
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind the port now, so a taken one is reported before anything else starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as err:
        sock.close()
        if getattr(err, "errno", None) == errno.EADDRINUSE:
            raise StartupError(f"port {port} on {host} is already in use; stop what uses it or pass "
                               "another --port") from None
        reason = getattr(err, "strerror", None) or str(err)
        raise StartupError(f"cannot listen on {host} port {port} ({reason}); check --host and "
                           "--port") from None
    return sock


def describe(exc: BaseException, settings: Settings | None) -> tuple[str, int]:
    """The one line (without the ``obfbroker:`` prefix) and exit status for a failure."""
    if isinstance(exc, StartupError):
        return exc.message, exc.exit_code
    if isinstance(exc, ConfigurationError):
        return str(exc), CONFIGURATION_EXIT
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return _invalid_settings(exc), CONFIGURATION_EXIT
    database = _database_failure(exc, settings)
    if database:
        return database, FAILURE_EXIT
    first = _first_line(str(exc))
    return (f"unexpected {type(exc).__name__}{': ' + first if first else ''}; rerun with --debug "
            "for the traceback"), FAILURE_EXIT


def _first_line(text: str) -> str:
    """The first line of a driver's or library's message, scrubbed, capped."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return redact(line)[:300]


def _invalid_settings(exc) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else ""
        variable = f"OBFBROKER_{field.upper()}" if field else "a setting"
        # pydantic's message never includes the input here; the value itself is not echoed.
        message = error.get("msg", "invalid").removeprefix("Value error, ")
        problems.append(f"{variable} is invalid ({message[:1].lower()}{message[1:]})")
    return "; ".join(problems) + ("; fix or unset it" if len(problems) == 1 else "; fix or unset them")


def _database_failure(exc: BaseException, settings: Settings | None) -> str | None:
    import sqlite3

    import sqlalchemy.exc

    driver_error, seen = None, set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the driver error may be a cause
        seen.add(id(current))
        if isinstance(current, sqlalchemy.exc.DBAPIError):
            driver_error = current.orig
            break
        if isinstance(current, sqlite3.Error) or type(current).__module__.startswith("psycopg"):
            driver_error = current
            break
        current = current.__cause__ or current.__context__
    if driver_error is None:
        from alembic.util import CommandError

        if isinstance(exc, CommandError) and settings is not None:
            return (f"cannot migrate the database at {settings.database_url_display} "
                    f"({_first_line(str(exc))}); is it from a newer obfbroker?")
        return None
    where = settings.database_url_display if settings is not None else "OBFBROKER_DATABASE_URL"
    text = str(driver_error)
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return (f"the database at {where} has no obfbroker tables; run `obfbroker db upgrade` "
                "(serve and worker migrate at start unless --no-migrate)")
    reason = _reason(text)
    if isinstance(driver_error, sqlite3.Error):
        return (f"cannot use the SQLite database at {where} ({reason}); check OBFBROKER_DATABASE_URL "
                "and that its folder is writable")
    if "Operational" in type(driver_error).__name__ or "Interface" in type(driver_error).__name__:
        return f"cannot reach the database at {where} ({reason}); check OBFBROKER_DATABASE_URL"
    return f"the database at {where} refused a command ({reason}); check OBFBROKER_DATABASE_URL"


def _reason(text: str) -> str:
    """libpq's "connection to server at ... failed: Connection refused" -> "connection refused"."""
    line = _first_line(text)
    line = line.rsplit("failed: ", 1)[-1].strip()
    line = line.removeprefix("FATAL:").strip()
    return (line[:1].lower() + line[1:]) or "no reason given"
