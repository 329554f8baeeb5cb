"""A 2xx answer means the change is stored: the request's transaction commits before the first
byte of the response leaves the server, so a client that reads right after a write (from any
process) sees it, and a commit that fails can still become an error answer."""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

from obfbroker.app import create_app
from tests.support.servers import serve_app
from tests.support.sim import SimControl
from tests.support.stack import Stack, make_settings


class Recorder:
    """Wraps the ASGI app; notes, in order, each commit and each response start."""

    def __init__(self, app) -> None:
        self.app = app
        self.events: list[str] = []
        self.lock = threading.Lock()

    def note(self, what: str) -> None:
        with self.lock:
            self.events.append(what)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def watched(message):
            if message["type"] == "http.response.start":
                self.note(f"response {message['status']}")
            await send(message)

        return await self.app(scope, receive, watched)


def test_a_write_is_committed_before_its_answer_is_sent(database_url: str, sim: SimControl):
    settings = make_settings(database_url, sim)
    recorder = Recorder(create_app(settings))

    def committed(session: Session) -> None:
        recorder.note("commit")

    with serve_app(recorder) as url:
        stack = Stack(url=url, settings=settings, sim=sim)
        _, api_key = stack.create_account()
        event.listen(Session, "after_commit", committed)
        try:
            with stack.client(api_key) as api:
                recorder.events.clear()
                response = api.put("/api/v1/webhooks", json={"url": "https://hooks.example.com/obf"})
                assert response.status_code == 200, response.text
                written = list(recorder.events)
                assert api.get("/api/v1/webhooks").json()["url"] == "https://hooks.example.com/obf"
        finally:
            event.remove(Session, "after_commit", committed)
    assert "commit" in written and written.index("commit") < written.index("response 200"), written
