"""A thin client for the Zoom simulator's /_sim control API, used by tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.http import TLS

REDIRECT_URI = "https://customer.example.com/zoom/oauth/callback"
SCOPES = ["user:read:user", "user:read:token", "user:read:zak"]


@dataclass
class SimApp:
    client_id: str
    client_secret: str
    webhook_secret_token: str


class SimControl:
    def __init__(self, url: str, app: Any) -> None:
        self.url = url
        self.app = app
        self.http = httpx.Client(verify=TLS, base_url=url, timeout=10)

    def close(self) -> None:
        self.http.close()

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 300, f"{response.request.url}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def create_app(self, *, scopes: list[str] | None = None,
                   redirect_uris: list[str] | None = None) -> SimApp:
        app = SimApp(f"cid_{secrets.token_hex(6)}", secrets.token_urlsafe(24),
                     secrets.token_urlsafe(24))
        self._ok(self.http.post("/_sim/apps", json={
            "client_id": app.client_id, "client_secret": app.client_secret,
            "redirect_uris": redirect_uris or [REDIRECT_URI, "http://localhost:5005/zoom/oauth/callback"],
            "scopes": SCOPES if scopes is None else scopes,
            "webhook_secret_token": app.webhook_secret_token,
        }))
        return app

    def create_user(self, name: str = "Alice", *, status: str = "active",
                    account_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"email": f"{name.lower()}-{secrets.token_hex(3)}@example.com",
                                "display_name": f"{name} Example", "status": status}
        if account_id:
            body["account_id"] = account_id
        return self._ok(self.http.post("/_sim/users", json=body))

    def authorize(self, app: SimApp, user_id: str, *, redirect_uri: str = REDIRECT_URI,
                  state: str | None = None, scopes: list[str] | None = None) -> str:
        body: dict[str, Any] = {"client_id": app.client_id, "user_id": user_id,
                                "redirect_uri": redirect_uri}
        if state is not None:
            body["state"] = state
        if scopes is not None:
            body["scopes"] = scopes
        return self._ok(self.http.post("/_sim/authorize", json=body))["code"]

    def stats(self) -> dict[str, Any]:
        return self._ok(self.http.get("/_sim/stats"))

    def faults(self, **values: Any) -> None:
        self._ok(self.http.post("/_sim/faults", json=values))

    def revoke_user(self, user_id: str) -> None:
        self._ok(self.http.post(f"/_sim/users/{user_id}/revoke"))

    def refresh_directly(self, app: SimApp, refresh_token: str) -> httpx.Response:
        """What Zoom answers to a refresh with this token (for checking revocation)."""
        return self.http.post("/oauth/token", auth=(app.client_id, app.client_secret),
                              data={"grant_type": "refresh_token", "refresh_token": refresh_token})
