"""PUT/GET/DELETE /api/v1/zoom/oauth/app: secrets are write-only and sealed at rest."""

from __future__ import annotations

import pytest

from tests.support.errors import assert_error
from tests.support.stack import Stack

APP = "/api/v1/zoom/oauth/app"


def test_app_lifecycle_never_returns_secrets(stack: Stack):
    _, key = stack.create_account()
    with stack.client(key) as api:
        assert_error(api.get(APP), 404, "zoom_app_not_configured", "PUT /api/v1/zoom/oauth/app")
        put = api.put(APP, json={"client_id": "cid123", "client_secret": "s3cr3t-value",
                                 "webhook_secret_token": "whsecret-value"})
        assert put.status_code == 200, put.text
        body = put.json()
        assert set(body) == {"app_id", "name", "kind", "is_default", "scopes", "client_id",
                             "has_client_secret", "has_webhook_secret_token", "webhook_url", "created_at",
                             "updated_at"}
        assert (body["kind"], body["is_default"]) == ("user_managed", True)
        assert body["client_id"] == "cid123" and body["has_client_secret"] is True
        assert body["has_webhook_secret_token"] is True
        assert body["webhook_url"].startswith("http://127.0.0.1:8000/webhooks/zoom/")
        assert "s3cr3t-value" not in put.text and "whsecret-value" not in put.text
        assert api.get(APP).json() == body

        kept = api.put(APP, json={"client_id": "cid456", "client_secret": "other"}).json()
        assert kept["has_webhook_secret_token"] is True, "an omitted webhook secret is kept"
        assert kept["client_id"] == "cid456" and kept["created_at"] == body["created_at"]
        assert kept["webhook_url"] == body["webhook_url"]
        cleared = api.put(APP, json={"client_id": "cid456", "client_secret": "other",
                                     "webhook_secret_token": None}).json()
        assert cleared["has_webhook_secret_token"] is False

        assert api.delete(APP).status_code == 204
        assert_error(api.get(APP), 404, "zoom_app_not_configured")
        assert_error(api.delete(APP), 404, "zoom_app_not_configured")


@pytest.mark.parametrize(("body", "fragment"), [
    ({"client_secret": "x"}, "client_id"),
    ({"client_id": "x"}, "client_secret"),
    ({"client_id": "", "client_secret": "x"}, "client_id"),
    ({"client_id": "has space", "client_secret": "x"}, "client_id"),
    ({"client_id": "x", "client_secret": "y", "clientsecret": "typo"}, "clientsecret"),
    ({"client_id": 5, "client_secret": "y"}, "client_id"),
])
def test_bad_app_bodies_are_400s_and_change_nothing(stack: Stack, body, fragment):
    _, key = stack.create_account()
    with stack.client(key) as api:
        before = api.put(APP, json={"client_id": "keep", "client_secret": "keep-secret"}).json()
        response = api.put(APP, json=body)
        assert_error(response, 400, "invalid_request", fragment)
        assert api.get(APP).json() == before


def test_one_account_never_sees_anothers_app(stack: Stack):
    _, first = stack.create_account()
    _, second = stack.create_account()
    with stack.client(first) as a, stack.client(second) as b:
        a.put(APP, json={"client_id": "first-app", "client_secret": "x"})
        assert_error(b.get(APP), 404, "zoom_app_not_configured")
        assert_error(b.delete(APP), 404, "zoom_app_not_configured")
        assert a.get(APP).json()["client_id"] == "first-app"
