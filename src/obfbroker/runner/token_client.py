"""The bot side of a token server (zoom-platform.md section 7): what a bot does to get its
OBF or ZAK token right before joining, against our hosted endpoint or a customer's own."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from obfbroker.outbound import OutboundRefused

MAX_TOKEN_LENGTH = 8192


@dataclass
class TokenUnavailable(Exception):
    """The token server did not hand out a token. ``status`` is its HTTP status, if any."""

    reason: str
    status: int | None = None
    code: str | None = None  # the server's error code, when it sent our JSON error shape
    final: bool = False  # no retry can help (the token server's address is refused)

    @property
    def retryable(self) -> bool:
        return not self.final and (self.status is None or self.status >= 500 or self.status == 429)

    def __str__(self) -> str:
        return self.reason


def _token_from(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    text = response.text.strip()
    token: object = None
    if content_type == "application/json" or text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise TokenUnavailable("token server answered invalid JSON", response.status_code) from None
        if isinstance(data, dict):
            named = [data[key] for key in ("token", "obf", "zak") if isinstance(data.get(key), str)]
            token = named[0] if named else None
    elif content_type in ("text/plain", ""):
        token = text
    usable = isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH
    if not usable or any(c.isspace() for c in token):
        raise TokenUnavailable("token server answered 200 without a usable token", response.status_code)
    return token


def _error(response: httpx.Response) -> TokenUnavailable:
    code = None
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            code = body["code"]
    except ValueError:
        pass
    return TokenUnavailable(f"token server answered {response.status_code}", response.status_code, code)


async def fetch_token(http: httpx.AsyncClient, url: str, *, bot_id: str, secret: str,
                      meeting_number: str, zoom_user_id: str | None = None) -> str:
    """GET ``url`` with ``meeting_number`` (and ``zoom_user_id``: which authorizing user, for a
    hosted bot with several); on 405 retry once as POST. Any other answer fails."""
    headers = {"X-Bot-Id": bot_id, "X-Webhook-Secret": secret}
    params = {"meeting_number": meeting_number}
    body = {"bot_id": bot_id, "meeting_number": meeting_number, "webhook_secret": secret}
    if zoom_user_id:
        params["zoom_user_id"] = body["zoom_user_id"] = zoom_user_id
    try:
        response = await http.get(url, params=params, headers=headers)
        if response.status_code == 405:
            response = await http.post(url, headers=headers, json=body)
    except OutboundRefused as refused:
        raise TokenUnavailable(f"token server {refused}", code="token_url_refused", final=True) from None
    except httpx.HTTPError as err:
        raise TokenUnavailable(f"token server unreachable ({type(err).__name__})") from None
    if response.status_code != 200:
        raise _error(response)
    return _token_from(response)
