"""Small helpers shared by the simulator tests."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from obfbroker.zoomsim.seed import (
    ALICE_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
)

DEMO_AUTH = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
REDIRECT_URI = DEMO_REDIRECT_URIS[0]


def authorize(http: httpx.Client, user_id: str = ALICE_ID, **extra: object) -> str:
    """Consent through the control API; returns the authorization code."""
    body = {"client_id": DEMO_CLIENT_ID, "user_id": user_id, "redirect_uri": REDIRECT_URI}
    response = http.post("/_sim/authorize", json={**body, **extra})
    assert response.status_code == 200, response.text
    return response.json()["code"]


def exchange(http: httpx.Client, code: str, redirect_uri: str = REDIRECT_URI,
             auth: tuple[str, str] = DEMO_AUTH, **extra: str) -> httpx.Response:
    """POST an authorization-code exchange."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return http.post("/oauth/token", data={**data, **extra}, auth=auth)


def refresh(http: httpx.Client, refresh_token: str,
            auth: tuple[str, str] = DEMO_AUTH) -> httpx.Response:
    """POST a refresh-token grant."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return http.post("/oauth/token", data=data, auth=auth)


def connect(http: httpx.Client, user_id: str = ALICE_ID, **extra: object) -> dict:
    """Authorize and exchange; returns the token response."""
    response = exchange(http, authorize(http, user_id, **extra))
    assert response.status_code == 200, response.text
    return response.json()


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def advance(http: httpx.Client, seconds: float) -> None:
    assert http.post("/_sim/clock", json={"advance_seconds": seconds}).status_code == 200


class FormParser(HTMLParser):
    """Collects a page's inputs, labels and buttons, enough to drive a form like a browser."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self.labels: dict[str, str] = {}
        self.legends: list[str] = []
        self.forms: list[dict[str, str | None]] = []
        self._label_for: str | None = None
        self._in_legend = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input":
            self.inputs.append(attributes)
        elif tag == "button":
            self.buttons.append(attributes)
        elif tag == "form":
            self.forms.append(attributes)
        elif tag == "label":
            self._label_for = attributes.get("for")
            if self._label_for:
                self.labels[self._label_for] = ""
        elif tag == "legend":
            self._in_legend = True
            self.legends.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_for = None
        elif tag == "legend":
            self._in_legend = False

    def handle_data(self, data: str) -> None:
        if self._label_for:
            self.labels[self._label_for] += data
        if self._in_legend:
            self.legends[-1] += data.strip()


def parse_form(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


def consent_submission(html: str, user_label: str, decision: str) -> dict[str, str]:
    """What a browser posts after picking `user_label` and pressing `decision`."""
    page = parse_form(html)
    fields = {i["name"]: i["value"] or "" for i in page.inputs if i.get("type") == "hidden"}
    radio_ids = {label: for_id for for_id, label in page.labels.items()}
    chosen = next(i for i in page.inputs if i.get("id") == radio_ids[user_label])
    fields["user_id"] = chosen["value"] or ""
    fields["decision"] = decision
    return fields
