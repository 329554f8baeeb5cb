"""The test databases' settings and making: the PostgreSQL URL the tests were given (if any),
the one encryption key every test server and runtime of a session shares, and a PostgreSQL
database of a test's own (copied from a template when asked), dropped when the test is done."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from obfbroker.settings import generate_key

POSTGRES_URL = os.environ.get("OBFBROKER_TEST_POSTGRES_URL")
TEST_KEY = generate_key()


def admin_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def new_postgres_database(template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own (a copy of ``template`` when given), dropped when the
    block ends."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set OBFBROKER_TEST_POSTGRES_URL to run this test")
    name = f"obfbroker_test_{uuid.uuid4().hex[:12]}"
    admin = admin_dsn(POSTGRES_URL)
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
