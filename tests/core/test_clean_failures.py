"""A command that can't start says why in one line on stderr and exits non-zero: no traceback
unless --debug (or OBFBROKER_DEBUG), no secret echoed, nothing created on the way out.

Each test runs its commands as real processes, several at a time (a start costs about a second).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from obfbroker.settings import Settings, generate_key
from obfbroker.startup import describe
from tests.support.servers import free_port

KEY = generate_key()
PASSWORD = "hunter2-not-echoed"
Case = tuple[list[str], dict[str, str], Path | None]


def run_all(cases: dict[str, Case]) -> dict[str, subprocess.CompletedProcess]:
    """Run every case at once (four at a time), each with no OBFBROKER_* but its own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OBFBROKER_")}

    def run(case: Case) -> subprocess.CompletedProcess:
        args, env, cwd = case
        return subprocess.run([sys.executable, "-m", "obfbroker", *args], env={**clean, **env},
                              cwd=cwd, capture_output=True, text=True, timeout=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run, case) for name, case in cases.items()}
        return {name: future.result() for name, future in futures.items()}


def one_line(result: subprocess.CompletedProcess, status: int) -> str:
    """The single stderr line of a failed command."""
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("obfbroker: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def test_bad_configuration_is_one_line_naming_the_variable(tmp_path):
    db = {"OBFBROKER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    results = run_all({
        "not base64": (["keys", "rotate"], {**db, "OBFBROKER_ENCRYPTION_KEYS": "!!!notbase64!!!"}, None),
        "wrong length": (["accounts", "create", "--name", "x"],
                         {**db, "OBFBROKER_ENCRYPTION_KEYS": KEY[:-4]}, None),
        "empty item": (["serve", "--port", str(free_port())],
                       {**db, "OBFBROKER_ENCRYPTION_KEYS": f"{KEY},"}, None),
        "unparsable url": (["db", "upgrade"], {
            "OBFBROKER_DATABASE_URL": f"postgresql://obf:{PASSWORD}@db.example:notaport/x"}, None),
        "invalid settings": (["worker"], {**db, "OBFBROKER_ENCRYPTION_KEYS": KEY,
                                          "OBFBROKER_KEEPALIVE_DAYS": "abc",
                                          "OBFBROKER_PUBLIC_URL": "ftp://files.example"}, None),
        "debug env": (["keys", "rotate"], {**db, "OBFBROKER_ENCRYPTION_KEYS": "short",
                                           "OBFBROKER_DEBUG": "1"}, None),
    })
    assert one_line(results["not base64"], 2) == (
        "obfbroker: OBFBROKER_ENCRYPTION_KEYS: key 1 of 1 is not valid base64url (letters, digits, - "
        "and _); `obfbroker keys generate` prints a valid key")
    assert "key 1 of 1 decodes to 29 bytes, not 32" in one_line(results["wrong length"], 2)
    assert "key 2 of 2 is empty" in one_line(results["empty item"], 2)
    for name in ("wrong length", "empty item"):
        assert KEY[:-4] not in results[name].stderr, "a key is never echoed"
    assert one_line(results["unparsable url"], 2).startswith(
        "obfbroker: OBFBROKER_DATABASE_URL is not a valid database URL; expected sqlite:///")
    assert PASSWORD not in results["unparsable url"].stderr
    line = one_line(results["invalid settings"], 2)
    assert "OBFBROKER_KEEPALIVE_DAYS is invalid (input should be a valid integer" in line
    assert "OBFBROKER_PUBLIC_URL is invalid (must be an absolute http(s) URL)" in line
    assert "abc" not in line.replace("obfbroker", "") and "files.example" not in line
    debug = results["debug env"]
    assert debug.returncode == 2 and debug.stderr.startswith("Traceback")
    assert debug.stderr.strip().splitlines()[-1].startswith(
        "obfbroker: OBFBROKER_ENCRYPTION_KEYS: key 1 of 1 is not valid base64url")
    assert not (tmp_path / "x.db").exists(), "no command got as far as creating the database"


def test_an_unreachable_database_is_one_line_with_its_password_masked():
    closed = free_port()  # nothing listens there: connection refused
    url = f"postgresql://obf:{PASSWORD}@127.0.0.1:{closed}/obfbroker"
    env = {"OBFBROKER_DATABASE_URL": url, "OBFBROKER_ENCRYPTION_KEYS": KEY}
    results = run_all({
        "serve": (["serve", "--port", str(free_port())], env, None),
        "worker --no-migrate": (["worker", "--no-migrate"], env, None),
        "db upgrade": (["db", "upgrade"], env, None),
        "accounts create": (["accounts", "create", "--name", "x"], env, None),
        "keys rotate": (["keys", "rotate"], env, None),
        "--debug": (["--debug", "db", "upgrade"], env, None),
    })
    expected = (f"obfbroker: cannot reach the database at postgresql://obf:***@127.0.0.1:{closed}/obfbroker "
                "(connection refused); check OBFBROKER_DATABASE_URL")
    for name, result in results.items():
        assert PASSWORD not in result.stderr, name
        if name != "--debug":
            assert one_line(result, 1) == expected, name
    debug = results["--debug"]
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == expected


def test_commands_outside_the_project_create_nothing_and_say_where_they_looked(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    missing_folder = tmp_path / "missing" / "obfbroker.db"
    absent = tmp_path / "absent.db"
    results = run_all({
        "no key": (["accounts", "create", "--name", "x"], {}, elsewhere),
        "no database": (["db", "upgrade"], {}, elsewhere),
        "no database, keys set": (["worker"], {"OBFBROKER_ENCRYPTION_KEYS": KEY}, elsewhere),
        "missing folder": (["db", "upgrade"], {"OBFBROKER_DATABASE_URL": f"sqlite:///{missing_folder}"},
                           None),
        "absent file": (["bots", "launch-spec", "bot_x"], {"OBFBROKER_DATABASE_URL": f"sqlite:///{absent}",
                                                           "OBFBROKER_ENCRYPTION_KEYS": KEY}, None),
    })
    var = elsewhere.resolve() / "var"
    assert one_line(results["no key"], 2) == (
        "obfbroker: no encryption key: OBFBROKER_ENCRYPTION_KEYS is not set and there is no development "
        f"key file at {var / 'encryption.key'}; run this from the project folder, run `obfbroker dev` "
        "once to create it, or set OBFBROKER_ENCRYPTION_KEYS (`obfbroker keys generate` prints a key)")
    no_database = (
        f"obfbroker: no database at {var / 'obfbroker.db'} (the default OBFBROKER_DATABASE_URL, "
        "sqlite:///./var/obfbroker.db, is relative to the current folder); run this from the project "
        "folder, run `obfbroker dev` once to create it, or set OBFBROKER_DATABASE_URL")
    assert one_line(results["no database"], 2) == no_database
    assert one_line(results["no database, keys set"], 2) == no_database
    assert list(elsewhere.iterdir()) == [], "no ./var, no key, no database"
    assert one_line(results["missing folder"], 2) == (
        f"obfbroker: cannot create the SQLite database {missing_folder}: the folder "
        f"{missing_folder.parent} does not exist; create it or check OBFBROKER_DATABASE_URL")
    assert not missing_folder.parent.exists()
    assert one_line(results["absent file"], 2) == (
        f"obfbroker: the SQLite database {absent} does not exist; create it with `obfbroker db upgrade` "
        "or check OBFBROKER_DATABASE_URL")
    assert not absent.exists()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_port_in_use_is_one_line(tmp_path, taken_port: int):
    database = tmp_path / "named.db"
    env = {"OBFBROKER_DATABASE_URL": f"sqlite:///{database}", "OBFBROKER_ENCRYPTION_KEYS": KEY}
    results = run_all({"serve": (["serve", "--port", str(taken_port)], env, None),
                       "zoomsim": (["zoomsim", "--port", str(taken_port)], {}, None)})
    for result in results.values():
        assert one_line(result, 1) == (f"obfbroker: port {taken_port} on 127.0.0.1 is already in use; "
                                       "stop what uses it or pass another --port")
    assert not database.exists(), "the port is checked before the database is created"


def test_driver_errors_read_as_one_line_without_secrets():
    """What a database error turns into, for the cases a test can't provoke as root (a read-only
    folder) or cheaply (a schema that was never migrated)."""
    sqlite = Settings(database_url="sqlite:////srv/ro/obfbroker.db")
    readonly = OperationalError("INSERT ...", {},
                                sqlite3.OperationalError("attempt to write a readonly database"))
    assert describe(readonly, sqlite) == (
        "cannot use the SQLite database at sqlite:////srv/ro/obfbroker.db (attempt to write a readonly "
        "database); check OBFBROKER_DATABASE_URL and that its folder is writable", 1)
    unmigrated = OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: bots"))
    assert describe(unmigrated, sqlite)[0].startswith(
        "the database at sqlite:////srv/ro/obfbroker.db has no obfbroker tables; run `obfbroker db upgrade`")
    line, status = describe(KeyError(f"password={PASSWORD}"), sqlite)
    assert status == 1 and line.startswith("unexpected KeyError: ") and PASSWORD not in line
    assert line.endswith("rerun with --debug for the traceback")
