"""What the database refuses is the request's fault (400) or the database's (503), answered as
JSON errors, never a 500 with a traceback that would log the statement's parameters."""

from __future__ import annotations

import psycopg

from obfbroker.app import create_app
from tests.support.customers import make_customer
from tests.support.databases import POSTGRES_URL, admin_dsn, new_postgres_database
from tests.support.servers import serve_app
from tests.support.stack import Stack, make_settings


def test_a_nul_character_is_a_400_and_changes_nothing(stack: Stack, captured_logs):
    customer = make_customer(stack)
    alice = stack.sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    for path in ("/api/v1/zoom/oauth/connections/a%00b", "/api/v1/bots/bot_%00"):
        response = customer.api.get(path)
        assert response.status_code in (400, 404), response.text  # SQLite stores NUL: just not found
        assert response.json()["code"] in ("invalid_request", "zoom_user_not_connected", "bot_not_found",
                                           "not_found")
    response = customer.api.patch(f"/api/v1/zoom/oauth/connections/{alice['id']}",
                                  json={"metadata": {"team": "a\u0000b"}})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:  # PostgreSQL: refused, and the metadata is as it was
        assert response.json()["code"] == "invalid_request"
        assert customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()["metadata"] == {}
    assert "Traceback" not in "\n".join(captured_logs.lines)


def test_a_database_gone_is_a_503_with_retry_after(sim):
    with new_postgres_database() as url:
        from obfbroker.db.migrate import upgrade

        settings = make_settings(url, sim)
        upgrade(settings)
        with serve_app(create_app(settings)) as api:
            stack = Stack(url=api, settings=settings, sim=sim)
            customer = make_customer(stack)
            assert customer.api.get("/api/v1/zoom/oauth/connections").status_code == 200
            name = url.rsplit("/", 1)[1]
            with psycopg.connect(admin_dsn(POSTGRES_URL), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            response = customer.api.get("/api/v1/zoom/oauth/connections")
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "1"
            assert response.json()["code"] == "database_unavailable"

