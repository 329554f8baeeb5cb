"""examples/python-callback: the customer's web app, served on a known port against the real API
and the Zoom simulator, driven like a browser (redirects followed by hand, the consent form posted
as the browser would)."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from tests.support.bot_scenes import new_meeting
from tests.support.customers import Customer, make_customer
from tests.support.http import TLS
from tests.support.servers import free_port, serve_app
from tests.support.stack import Stack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python-callback" / "app.py"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def load_example() -> ModuleType:
    """examples/python-callback/app.py as a module (its directory name is not importable)."""
    name = "python_callback_example"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


class ConsentForm(HTMLParser):
    """The simulator's consent page: the form's action, its hidden inputs and the users offered."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.users: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")
        elif tag == "input" and values.get("type") == "radio" and values.get("name") == "user_id":
            self.users.append(values.get("value", ""))


@dataclass
class Example:
    url: str
    redirect_uri: str
    db_path: Path
    customer: Customer

    @property
    def stack(self) -> Stack:
        return self.customer.stack

    def browser(self) -> httpx.Client:
        return httpx.Client(verify=TLS, timeout=30, follow_redirects=False)

    def add_user(self, browser: httpx.Client, name: str) -> str:
        response = browser.post(f"{self.url}/users", data={"name": name})
        assert response.status_code == 303, response.text
        return response.headers["location"]  # /users/<id>

    def zoom_user_id_of(self, user_id: str) -> str | None:
        with closing(sqlite3.connect(self.db_path)) as db:
            row = db.execute("SELECT zoom_user_id FROM end_users WHERE id = ?", (int(user_id),)).fetchone()
        return row[0]

    def consent(self, browser: httpx.Client, user_page: str, zoom_user_id: str, decision: str) -> str:
        """Connect Zoom -> authorize URL -> consent page -> submit; returns the callback URL."""
        page = browser.get(f"{self.url}{user_page}")
        assert page.status_code == 200 and "Connect Zoom" in page.text
        start = browser.get(f"{self.url}{user_page}/connect")
        assert start.status_code in (302, 303), start.text
        authorize_url = start.headers["location"]
        sim = self.stack.sim
        assert authorize_url.startswith(f"{sim.url}/oauth/authorize?")
        query = parse_qs(urlsplit(authorize_url).query)
        assert query["redirect_uri"] == [self.redirect_uri], "the exact same redirect URI"
        assert query["state"] == [user_page.rsplit("/", 1)[1]], "state=<end-user id>"
        assert query["client_id"] == [self.customer.app.client_id]

        consent = browser.get(authorize_url)
        assert consent.status_code == 200, consent.text
        form = ConsentForm()
        form.feed(consent.text)
        assert form.action and zoom_user_id in form.users
        answer = browser.post(urljoin(authorize_url, form.action),
                              data={**form.hidden, "user_id": zoom_user_id, "decision": decision})
        assert answer.status_code == 302, answer.text
        callback = answer.headers["location"]
        assert callback.startswith(f"{self.redirect_uri}?")
        return callback


@contextmanager
def serve_example(stack: Stack, tmp_path: Path, *, api_key: str | None = None,
                  api_url: str | None = None) -> Iterator[Example]:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/zoom/oauth/callback"
    customer = make_customer(stack, stack.sim.create_app(redirect_uris=[redirect_uri]), name="example")
    db_path = tmp_path / f"example-{port}.db"
    app = load_example().create_app(api_url or stack.url, api_key or customer.api_key, redirect_uri,
                                    str(db_path))
    try:
        with serve_app(app, port=port) as url:
            assert url == f"http://127.0.0.1:{port}"
            yield Example(url, redirect_uri, db_path, customer)
    finally:
        customer.api.close()


@pytest.fixture
def example(stack: Stack, tmp_path: Path) -> Iterator[Example]:
    with serve_example(stack, tmp_path) as served:
        yield served


def test_connect_zoom_then_send_a_bot_to_my_meeting(example: Example):
    sim, api = example.stack.sim, example.customer.api
    alice = sim.create_user("Alice")
    with example.browser() as browser:
        assert browser.get(f"{example.url}/healthz").json() == {"status": "ok"}
        home = browser.get(f"{example.url}/")
        assert home.status_code == 200 and '<label for="name">Name</label>' in home.text
        assert example.redirect_uri in home.text

        user_page = example.add_user(browser, "Alice Tenant")
        user_id = user_page.rsplit("/", 1)[1]
        assert example.zoom_user_id_of(user_id) is None

        callback = example.consent(browser, user_page, alice["id"], "allow")
        assert parse_qs(urlsplit(callback).query)["state"] == [user_id]
        done = browser.get(callback)
        assert done.status_code == 303, done.text
        assert done.headers["location"].startswith(user_page)
        assert example.zoom_user_id_of(user_id) == alice["id"], "zoom_user_id saved against the end-user"

        # A browser refresh of the callback repeats connection-create with the same code: safe by design.
        assert browser.get(callback).status_code == 303

        shown = browser.get(f"{example.url}{done.headers['location']}")
        assert shown.status_code == 200
        assert alice["id"] in shown.text and "Alice Example" in shown.text and "connected" in shown.text
        assert "Send a bot to my meeting" in shown.text and '<label for="meeting_link">' in shown.text
        assert alice["id"] in browser.get(f"{example.url}/").text

        connection = api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()
        assert connection["state"] == "connected"
        assert connection["metadata"] == {"tenant_user_id": user_id}

        meeting = new_meeting(example.stack, alice["id"])
        sent = browser.post(f"{example.url}{user_page}/bots",
                            data={"meeting_link": meeting.join_url, "bot_name": "Alice's notes"})
        assert sent.status_code == 303, sent.text
        bot_path = sent.headers["location"]
        assert bot_path.startswith("/bots/bot_")
        bot_id = bot_path.rsplit("/", 1)[1]

        bot = api.get(f"/api/v1/bots/{bot_id}").json()
        assert bot["status"] == "queued" and bot["bot_name"] == "Alice's notes"
        assert bot["zoom"] == {"use_zoom_obf": True, "zoom_oauth_connection_user_id": alice["id"]}
        assert bot["zoom_oauth_connection_user_id"] == alice["id"]
        mine = api.get("/api/v1/bots", params={"zoom_oauth_connection_user_id": alice["id"]}).json()
        assert [b["bot_id"] for b in mine["bots"]] == [bot_id]

        status_page = browser.get(f"{example.url}{bot_path}")
        assert status_page.status_code == 200
        assert "Status: queued" in status_page.text
        assert '<meta http-equiv="refresh" content="2">' in status_page.text
        assert "Timeline" in status_page.text and "Alice Tenant" in status_page.text
        assert bot_id in browser.get(f"{example.url}{user_page}").text

        left = browser.post(f"{example.url}{bot_path}/leave")
        assert left.status_code == 303
        finished = browser.get(f"{example.url}{bot_path}")
        assert "Status: ended (left_by_request)" in finished.text
        assert 'http-equiv="refresh"' not in finished.text, "no refresh once the bot is finished"


def test_declining_at_zoom_shows_a_readable_page(example: Example):
    alice = example.stack.sim.create_user("Alice")
    with example.browser() as browser:
        user_page = example.add_user(browser, "Alice Tenant")
        callback = example.consent(browser, user_page, alice["id"], "deny")
        assert parse_qs(urlsplit(callback).query)["error"] == ["access_denied"]
        page = browser.get(callback)
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"]
    assert "declined" in page.text and "access_denied" in page.text and 'role="alert"' in page.text
    assert example.zoom_user_id_of(user_page.rsplit("/", 1)[1]) is None


def test_api_failures_show_readable_pages_without_the_key(example: Example, stack: Stack, tmp_path: Path):
    key = example.customer.api_key
    with example.browser() as browser:
        user_page = example.add_user(browser, "Bob Tenant")
        user_id = user_page.rsplit("/", 1)[1]

        bad_code = browser.get(f"{example.url}/zoom/oauth/callback",
                               params={"code": "not-a-real-code", "state": user_id})
        assert bad_code.status_code == 400
        assert "text/html" in bad_code.headers["content-type"]
        assert "zoom_code_rejected" in bad_code.text
        assert "Zoom rejected the authorization code" in bad_code.text
        assert example.redirect_uri in bad_code.text, "the page names the redirect URI to check"
        assert key not in bad_code.text
        assert example.zoom_user_id_of(user_id) is None

        unknown = browser.get(f"{example.url}/zoom/oauth/callback", params={"code": "c", "state": "999"})
        assert unknown.status_code == 400 and "does not name an end-user" in unknown.text

        no_bot = browser.post(f"{example.url}{user_page}/bots", data={"meeting_link": "https://zoom.us/j/1"})
        assert no_bot.status_code == 400 and "Connect Zoom first" in no_bot.text

        missing = browser.get(f"{example.url}/bots/bot_nope")
        assert missing.status_code == 404 and "bot_not_found" in missing.text and key not in missing.text

    # The same app with a wrong API key: authorize-url fails, readably, without showing either key.
    wrong = key + "x"
    with serve_example(stack, tmp_path, api_key=wrong) as other:
        with other.browser() as browser:
            page = browser.get(f"{other.url}{other.add_user(browser, 'Carol')}/connect")
        assert page.status_code == 502
        assert "invalid_api_key" in page.text and "received but rejected" in page.text
        assert "OBFBROKER_API_KEY" in page.text
        assert wrong not in page.text and key not in page.text

    # obfbroker not answering at all.
    with serve_example(stack, tmp_path, api_url=f"http://127.0.0.1:{free_port()}") as other:
        with other.browser() as browser:
            page = browser.get(f"{other.url}{other.add_user(browser, 'Dan')}/connect")
        assert page.status_code == 502 and "obfbroker did not answer" in page.text
        assert other.customer.api_key not in page.text


def test_a_refused_bot_shows_the_api_detail_and_code(example: Example):
    alice = example.stack.sim.create_user("Alice")
    with example.browser() as browser:
        user_page = example.add_user(browser, "Alice Tenant")
        assert browser.get(example.consent(browser, user_page, alice["id"], "allow")).status_code == 303
        page = browser.post(f"{example.url}{user_page}/bots",
                            data={"meeting_link": "https://meet.google.com/abc-defg-hij", "bot_name": "x"})
    assert page.status_code == 400
    assert "not_a_zoom_meeting_link" in page.text
    assert "meeting_link must be a Zoom meeting URL" in page.text
    assert example.customer.api_key not in page.text
