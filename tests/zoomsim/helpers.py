"""Small helpers shared by the simulator tests."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from html.parser import HTMLParser

import httpx

from obfbroker.zoomsim.sdkjwt import encode_sdk_jwt
from obfbroker.zoomsim.seed import (
    ALICE_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
)
from obfbroker.zoomsim.state import SimState
from tests.support.http import TLS
from tests.support.waiting import eventually

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


# -- meetings and bots --------------------------------------------------------------------

def new_meeting(http: httpx.Client, host: str = ALICE_ID, *, waiting_room: bool | None = None) -> dict:
    """Create a meeting (`waiting_room` is sent only when given); returns the 201 body."""
    body: dict = {"host_user_id": host}
    if waiting_room is not None:
        body["waiting_room"] = waiting_room
    response = http.post("/_sim/meetings", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def enter(http: httpx.Client, meeting: dict, user_id: str = ALICE_ID) -> None:
    response = http.post(f"/_sim/meetings/{meeting['meeting_number']}/participants",
                         json={"user_id": user_id})
    assert response.status_code == 200, response.text


def meeting_view(http: httpx.Client, meeting: dict) -> dict:
    response = http.get(f"/_sim/meetings/{meeting['meeting_number']}")
    assert response.status_code == 200, response.text
    return response.json()


def mint(http: httpx.Client, access_token: str, meeting: dict | None = None,
         kind: str = "onbehalf") -> str:
    """An OBF token for the meeting (or, with kind="zak", a ZAK token)."""
    params = {"type": kind}
    if meeting is not None:
        params["meeting_id"] = meeting["meeting_number"]
    response = http.get("/v2/users/me/token", params=params, headers=bearer(access_token))
    assert response.status_code == 200, response.text
    return response.json()["token"]


def request_join_token(http: httpx.Client, access_token: str, meeting_id: str,
                       bypass_waiting_room: str | None = None) -> httpx.Response:
    """GET /v2/meetings/{meeting_id}/jointoken/local_recording, answered as it is."""
    params = {} if bypass_waiting_room is None else {"bypass_waiting_room": bypass_waiting_room}
    return http.get(f"/v2/meetings/{meeting_id}/jointoken/local_recording", params=params,
                    headers=bearer(access_token))


def mint_join_token(http: httpx.Client, access_token: str, meeting: dict, *,
                    bypass_waiting_room: bool | None = None) -> str:
    """A local-recording join token for the meeting, minted with the host's access token."""
    flag = None if bypass_waiting_room is None else str(bypass_waiting_room).lower()
    response = request_join_token(http, access_token, meeting["meeting_number"], flag)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def sdk_jwt(sim: SimState, meeting: dict, *, client_id: str = DEMO_CLIENT_ID,
            secret: str = DEMO_CLIENT_SECRET, lifetime: int = 7200, role: int = 0) -> str:
    iat = int(sim.now()) - 30
    return encode_sdk_jwt(client_id, secret, meeting["meeting_number"], iat=iat,
                          exp=iat + lifetime, role=role)


def join(http: httpx.Client, sim: SimState, meeting: dict, *, obf: str | None = None,
         zak: str | None = None, jwt: str | None = None, passcode: str | None = "meeting's",
         name: str = "Notetaker", join_token: str | None = None) -> httpx.Response:
    """POST a bot join; only the tokens given are sent."""
    body: dict = {"bot_name": name, "sdk_jwt": jwt if jwt is not None else sdk_jwt(sim, meeting)}
    if obf is not None:
        body["obf_token"] = obf
    if zak is not None:
        body["zak_token"] = zak
    if join_token is not None:
        body["join_token"] = join_token
    if passcode is not None:
        body["passcode"] = meeting["passcode"] if passcode == "meeting's" else passcode
    return http.post(f"/_sim/meetings/{meeting['meeting_number']}/bots", json=body)


def refused(response: httpx.Response, status: int, error: str, code: int) -> str:
    """Assert a refused join's status, error and code; returns its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "code", "message"}
    assert (body["error"], body["code"]) == (error, code)
    return body["message"]


def bot_path(meeting: dict, bot_id: str) -> str:
    return f"/_sim/meetings/{meeting['meeting_number']}/bots/{bot_id}"


def joined_bot(http: httpx.Client, sim: SimState, meeting: dict, access_token: str,
               name: str = "Notetaker") -> dict:
    response = join(http, sim, meeting, obf=mint(http, access_token, meeting), name=name)
    assert response.status_code == 201, response.text
    return response.json()


def poll_in_background(base_url: str, path: str, wait: float) -> Future[httpx.Response]:
    """Start a long-poll in a thread; the future gives its response."""
    def poll() -> httpx.Response:
        with httpx.Client(verify=TLS, base_url=base_url, timeout=wait + 10) as client:
            return client.get(path, params={"wait": wait})

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(poll)
    pool.shutdown(wait=False)
    return future


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


def long_poll_waiting(sim: SimState, meeting: dict) -> None:
    """Return once a long-poll is waiting on the meeting (registered for its wake-ups), so what
    the test does next wakes it rather than answering it at once."""
    eventually(lambda: sim.signals.waiting(meeting["meeting_number"]), "a long-poll waits on the meeting",
               timeout=15)
