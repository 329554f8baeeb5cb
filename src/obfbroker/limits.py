"""A cap on request bodies, as a pure ASGI middleware: a body over
``OBFBROKER_MAX_REQUEST_BODY_BYTES`` is refused with 413 ``payload_too_large`` before the app
reads it whole, whether its size is declared (``Content-Length``) or only found while reading
(chunked). The Zoom webhook has a smaller cap of its own."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from obfbroker.errors import error_body


def _too_large(limit: int) -> str:
    return f"Request body too large: at most {limit} bytes"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None and declared.isdigit() and (len(declared) > 12
                                                            or int(declared) > self.max_bytes):
            response = JSONResponse(error_body(_too_large(self.max_bytes), "payload_too_large"),
                                    status_code=413, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException: FastAPI re-raises it from body parsing (anything else it
                    # would turn into 400), and the error handler answers it as JSON.
                    raise HTTPException(413, _too_large(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)
