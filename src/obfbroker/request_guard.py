"""What every request is held to before any route sees it, as one pure ASGI middleware.

- **Repeated parameters.** A query parameter, or a header that carries credentials or a key,
  given more than once is refused (400 ``invalid_request``): frameworks disagree on which copy
  wins (Starlette reads the last query value and the first header), so no copy is chosen.
- **Body size.** A body over ``OBFBROKER_MAX_REQUEST_BODY_BYTES`` (or a route's smaller cap:
  Zoom's webhook, 64 KiB) is refused with 413 ``payload_too_large`` before it is read whole,
  whether its size is declared (``Content-Length``) or only found while reading (chunked).
- **Text that cannot be encoded.** A JSON body with a string (or a key) holding a lone UTF-16
  surrogate (``"\\ud800"``) is refused (400 ``invalid_request``): it has no UTF-8 form, so
  hashing, storing or logging it would fail later, as a 500.
- **Token answers are never cached.** Every answer under ``/token-server/`` and
  ``/token-links/`` carries ``Cache-Control: no-store``, errors from the framework (405, 404)
  included.

A body is read here in full (it is at most the cap) and handed to the app unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import unquote_plus

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from obfbroker.errors import error_body

# Token answers (our bots' hosted endpoint, the platforms' token links): never cached.
NO_STORE_PREFIXES = ("/token-server/", "/token-links/")
NO_STORE_HEADERS = ((b"cache-control", b"no-store"), (b"pragma", b"no-cache"))
# Headers whose value decides who the caller is or which request this is: exactly one copy.
SINGLE_HEADERS = frozenset({b"authorization", b"x-bot-id", b"x-webhook-secret", b"idempotency-key",
                            b"content-length", b"content-type"})
# A JSON escape of a surrogate half (D800-DFFF): a pair is fine, a lone one is not.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
UNENCODABLE_TEXT = ("The request body holds text that is not valid Unicode: a lone UTF-16 surrogate "
                    "(such as \\ud800) without its pair")


def too_large(limit: int) -> str:
    """The words of every 413: the guard's, and a route's own cap."""
    return f"Request body too large: at most {limit} bytes"


def _query_name(name: str) -> str:
    # Named only when it looks like a parameter name: a misplaced secret is never echoed.
    return f"query parameter {name}" if _PARAMETER_NAME.fullmatch(name) else "same query parameter"


def repeated_query_parameter(query: bytes) -> str | None:
    """The name of the first query parameter given more than once."""
    seen: set[str] = set()
    for pair in query.split(b"&"):
        if not pair:
            continue
        raw = pair.split(b"=", 1)[0]
        name = unquote_plus(raw.decode("latin-1")) if b"%" in raw or b"+" in raw else raw.decode("latin-1")
        if name in seen:
            return name
        seen.add(name)
    return None


def _strings(value: object) -> Iterator[str]:
    """Every string in a parsed JSON document, keys included (iteratively: no recursion limit)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def holds_unencodable_text(body: bytes) -> bool:
    """Whether ``body`` is JSON with a string that has no UTF-8 form. A body that is not JSON is
    left for the route to refuse in its own words."""
    utf8 = json.detect_encoding(body) == "utf-8"  # JSON may come as UTF-16 or UTF-32 too
    if utf8 and (b"\\u" not in body or _SURROGATE_ESCAPE.search(body) is None):
        return False  # the usual case: no escape that could produce such text
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False
    for text in _strings(document):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


class _Headers:
    """What the guard reads of the headers, in one pass: the declared body length, whether a
    body follows, and the first single-valued header that came twice."""

    __slots__ = ("declared", "has_body", "repeated")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.declared: int | None = None
        self.has_body = False
        self.repeated: str | None = None
        seen: set[bytes] = set()
        for name, value in headers:
            if name == b"content-length":
                self.has_body = value != b"0"
                if value.isdigit() and len(value) <= 12:
                    self.declared = int(value)
            elif name == b"transfer-encoding":
                self.has_body = True
            if name in SINGLE_HEADERS:
                if name in seen and self.repeated is None:
                    self.repeated = name.decode()
                seen.add(name)


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_bytes: int, caps: tuple[tuple[str, int], ...] = ()) -> None:
        """``caps``: smaller limits for paths under a prefix (Zoom's webhook: 64 KiB), so that such
        a route's body is never buffered past its own cap here."""
        self.app = app
        self.max_bytes = max_bytes
        self.caps = caps

    def _limit(self, path: str) -> int:
        return next((cap for prefix, cap in self.caps if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(NO_STORE_PREFIXES):
            send = _never_cached(send)
        headers = _Headers(scope["headers"])
        query = scope.get("query_string", b"")
        repeated = repeated_query_parameter(query) if query else None
        if repeated is not None or headers.repeated is not None:
            what = _query_name(repeated) if repeated is not None else f"header {headers.repeated}"
            await _refuse(scope, receive, send, 400, f"The {what} is given more than once; send it once",
                          "invalid_request")
            return
        limit = self._limit(scope["path"]) if self.caps else self.max_bytes
        if headers.declared is not None and headers.declared > limit:
            await _refuse(scope, receive, send, 413, too_large(limit), "payload_too_large", close=True)
            return
        if headers.has_body:
            body, message = await self._read_body(receive, limit)
            if body is None:
                await _refuse(scope, receive, send, 413, too_large(limit), "payload_too_large", close=True)
                return
            if holds_unencodable_text(body):
                await _refuse(scope, receive, send, 400, UNENCODABLE_TEXT, "invalid_request")
                return
            receive = _replay(body, message, receive)
        await self.app(scope, receive, send)

    @staticmethod
    async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, Message | None]:
        """The whole body (None once it passes the cap), or the disconnect that cut it short."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks), message  # the client went away: let the app see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None, None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


def _replay(body: bytes, ended: Message | None, receive: Receive) -> Receive:
    """A receive that gives the app the body read here, then whatever comes next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": ended is not None}]
    if ended is not None:
        pending.append(ended)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _never_cached(send: Send) -> Send:
    async def with_no_store(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            headers.extend(header for header in NO_STORE_HEADERS if header[0] not in present)
            message = {**message, "headers": headers}
        await send(message)

    return with_no_store


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str, code: str, *,
                  close: bool = False) -> None:
    response = JSONResponse(error_body(detail, code), status_code=status,
                            headers={"Connection": "close"} if close else None)
    await response(scope, receive, send)
