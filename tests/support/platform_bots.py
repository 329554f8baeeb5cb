"""Other platforms' bots, as their public contracts say they call a Zoom token URL
(../shared/spec/bot-platforms.md), then join a simulated meeting with what they got.

Written from those contracts alone, not from obfbroker's code: a token link passes only if it
answers what each platform's bot actually reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from obfbroker.zoom.sdk_jwt import meeting_sdk_jwt
from tests.support.http import TLS
from tests.support.sim import SimApp, SimControl


class NoToken(Exception):
    """The platform's bot got no token: it would fail the join (or, for Attendee, join without)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} {response.text[:300]}")
        self.response = response


def _append(url: str, params: dict[str, str]) -> str:
    """The URL with ``params`` added to its query string, as a platform appends its own."""
    joiner = "&" if urlsplit(url).query else "?"
    return url + joiner + urlencode(params)


def _readable_token(response: httpx.Response) -> str | None:
    """MeetStream reads text/plain as the token, or JSON with token, zak or obf."""
    if response.status_code != 200:
        return None
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    if kind == "application/json":
        try:
            data = response.json()
        except ValueError:
            return None
        values = [data.get(name) for name in ("token", "zak", "obf")] if isinstance(data, dict) else []
        return next((v for v in values if isinstance(v, str) and v), None)
    text = response.text.strip()
    return text or None


def meetstream(url: str, *, bot_id: str, meeting_number: str | None, webhook_secret: str | None = None,
               http: httpx.Client | None = None) -> str:
    """MeetStream's bot: GET (OBF: ``meeting_number`` appended), headers X-Bot-Id and
    X-Webhook-Secret; on 405 or an unreadable answer, once as POST with JSON. A 400 on GET is final."""
    client = http or httpx.Client(verify=TLS, timeout=30)
    headers = {"X-Bot-Id": bot_id}
    if webhook_secret:
        headers["X-Webhook-Secret"] = webhook_secret
    target = _append(url, {"meeting_number": meeting_number}) if meeting_number else url
    response = client.get(target, headers=headers)
    token = _readable_token(response)
    if token is not None:
        return token
    if response.status_code == 400:
        raise NoToken(response)
    if response.status_code == 405 or response.status_code == 200:
        body: dict[str, Any] = {"bot_id": bot_id}
        if meeting_number:
            body["meeting_number"] = meeting_number
        if webhook_secret:
            body["webhook_secret"] = webhook_secret
        response = client.post(url, json=body, headers=headers)
        token = _readable_token(response)
        if token is not None:
            return token
    raise NoToken(response)


def recall(url: str, *, http: httpx.Client | None = None) -> str:
    """Recall.ai's bot: GET on the URL exactly as given; the body is the token."""
    response = (http or httpx.Client(verify=TLS, timeout=30)).get(url)
    if response.status_code != 200 or not response.text.strip():
        raise NoToken(response)
    return response.text.strip()


def meetingbaas(url: str, *, bot_id: str, extra: dict[str, Any] | None = None,
                http: httpx.Client | None = None) -> str:
    """Meeting BaaS's bot: GET with ``bot_id`` and ``extra`` (JSON) appended; plain-text token."""
    params = {"bot_id": bot_id, "extra": json.dumps(extra or {})}
    response = (http or httpx.Client(verify=TLS, timeout=15)).get(_append(url, params))
    if response.status_code != 200 or not response.text.strip():
        raise NoToken(response)
    return response.text.strip()


def attendee_signature(body: dict[str, Any], secret_b64: str) -> str:
    """How Attendee signs a callback: HMAC-SHA256 over the canonical JSON, base64."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    key = base64.b64decode(secret_b64)
    return base64.b64encode(hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).digest()).decode()


ATTENDEE_FIELDS = ("zak_token", "join_token", "app_privilege_token", "onbehalf_token")


def attendee_request(url: str, *, secret_b64: str, bot_id: str, meeting_url: str,
                     bot_metadata: Any = None, http: httpx.Client | None = None,
                     tamper: bool = False) -> httpx.Response:
    """Attendee's callback: POST JSON (sent as requests sends it, spaces and all) signed over the
    canonical form; ``tamper`` changes the body after signing."""
    body = {"bot_id": bot_id, "bot_metadata": bot_metadata, "callback_type": "zoom_tokens",
            "meeting_url": meeting_url}
    signature = attendee_signature(body, secret_b64)
    if tamper:
        body["meeting_url"] = meeting_url + "&x=1"
    return (http or httpx.Client(verify=TLS, timeout=30)).post(
        url, content=json.dumps(body).encode(), follow_redirects=False,
        headers={"Content-Type": "application/json", "User-Agent": "Attendee-Callback/1.0",
                 "X-Webhook-Signature": signature})


def attendee(url: str, **kwargs: Any) -> dict[str, str | None]:
    """What Attendee's bot keeps of the answer: each field that is a non-empty string, else None
    (a non-2xx answer or invalid JSON: no token at all)."""
    response = attendee_request(url, **kwargs)
    tokens: dict[str, str | None] = dict.fromkeys(ATTENDEE_FIELDS)
    if not 200 <= response.status_code < 300:
        raise NoToken(response)
    data = response.json()
    for name in ATTENDEE_FIELDS:
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, str) and value.strip():
            tokens[name] = value
    return tokens


@dataclass
class Joined:
    status: int
    body: dict[str, Any]


def join(sim: SimControl, app: SimApp, meeting: Any, *, obf: str | None = None, zak: str | None = None,
         join_token: str | None = None, bot_name: str = "Platform bot") -> Joined:
    """The platform's bot joining the simulated meeting with the Meeting SDK (the customer's app)."""
    number = str(meeting.number)
    body: dict[str, Any] = {"bot_name": bot_name, "passcode": meeting.passcode,
                            "sdk_jwt": meeting_sdk_jwt(app.client_id, app.client_secret, number,
                                                       now=datetime.now(UTC))}
    for name, value in (("obf_token", obf), ("zak_token", zak), ("join_token", join_token)):
        if value is not None:
            body[name] = value
    response = sim.http.post(f"/_sim/meetings/{number}/bots", json=body)
    return Joined(response.status_code, response.json())
