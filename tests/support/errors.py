"""What every error answer of the API is held to, for the tests of every domain."""

from __future__ import annotations

from typing import Any


def assert_error(response: Any, status: int, code: str, *fragments: str) -> dict:
    """``response`` is the JSON error ``status`` with ``code``; its message (``detail``, also as
    ``message``) holds every one of ``fragments``. Returns the body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["message"] == body["detail"]
    for fragment in fragments:
        assert fragment in body["detail"], body["detail"]
    return body
