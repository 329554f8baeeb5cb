"""Webhooks from Zoom to the customer's app (``webhook_url``): verified, then acted on. A flow:
it finds the Zoom app (zoom_apps), remembers signatures (webhooks) and disconnects (connections).

Signature (``x-zm-signature``) over the raw body with the app's webhook secret token, compared in
constant time; timestamps more than 5 minutes off are refused, and so is a signature already
seen (replays). ``endpoint.url_validation`` is answered; ``app_deauthorized`` disconnects that
Zoom user's connection at once and deletes its token material (the connection stays listed, with
reason ``app_deauthorized``, until the customer deletes it or the user reconnects). Bodies are
never logged.

Hostile input is a 4xx, never a 500: bodies over 64 KiB are refused (413) before they are read
in full, headers must be present once, the timestamp is ASCII digits, and the body must be UTF-8
JSON (an object, no NaN or Infinity, nested no deeper than the parser allows).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.clock import Clock
from obfbroker.connections import service as connections
from obfbroker.deps import ClockDep, SessionDep, VaultDep
from obfbroker.errors import BadRequest, NotFound, ObfError, Unauthorized
from obfbroker.request_guard import too_large
from obfbroker.vault import Vault
from obfbroker.webhooks import service as webhooks
from obfbroker.webhooks.schemas import ZOOM_WEBHOOK_DESCRIPTION, ZOOM_WEBHOOK_REQUEST, ZOOM_WEBHOOK_RESPONSES
from obfbroker.zoom.signatures import (
    TOLERANCE_SECONDS,
    parse_timestamp,
    signature_matches,
    url_validation_answer,
)
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.models import ZoomApp

router = APIRouter(tags=["zoom webhooks"])
MAX_BODY = 64 * 1024
PREFIX = "/webhooks/zoom/"
RECEIPT_TTL = timedelta(seconds=2 * TOLERANCE_SECONDS)


def _refuse(reason: str) -> Unauthorized:
    return Unauthorized(f"Zoom webhook refused: {reason}", code="invalid_zoom_signature")


def _invalid(detail: str) -> BadRequest:
    return BadRequest(detail, code="invalid_zoom_event")


def _too_large() -> ObfError:
    # request_guard.py enforces this cap first (app.py); kept here for the route on its own.
    return ObfError(too_large(MAX_BODY), code="payload_too_large", status_code=413)


async def _read_body(request: Request) -> bytes:
    """The raw body, refused past MAX_BODY without reading (or keeping) the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 9 or int(declared) > MAX_BODY):
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _single_header(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    return values[0] if len(values) == 1 else None


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotPlainJson
    return value


class _NotPlainJson(ValueError):
    """NaN, Infinity or a number too big for a float: Python's json takes them, JSON doesn't."""


def _no_constants(_: str) -> float:
    raise _NotPlainJson


def _parse_event(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("webhook body is not UTF-8") from None
    try:
        event = json.loads(text, parse_constant=_no_constants, parse_float=_finite_float)
    except _NotPlainJson:
        raise _invalid("webhook body has NaN, Infinity or an out-of-range number") from None
    except RecursionError:
        raise _invalid("webhook body is nested too deeply") from None
    except ValueError:
        raise _invalid("webhook body is not JSON") from None
    if not isinstance(event, dict):
        raise _invalid("webhook body is not a JSON object")
    return event


def _plain_text(value: object, max_length: int) -> bool:
    """A short printable string: no NUL (PostgreSQL refuses it in text) and no lone surrogate
    (it can't be encoded), either of which would be a 500."""
    return isinstance(value, str) and 0 < len(value) <= max_length and value.isprintable()


async def _verify(session: AsyncSession, vault: Vault, clock: Clock, app: ZoomApp, request: Request,
                  body: bytes) -> None:
    if app.webhook_secret_token is None:
        raise _refuse("no webhook_secret_token is configured for this Zoom app")
    timestamp = _single_header(request, "x-zm-request-timestamp")
    signature = _single_header(request, "x-zm-signature")
    if not timestamp or not signature:
        raise _refuse("missing or repeated x-zm-request-timestamp or x-zm-signature")
    seconds = parse_timestamp(timestamp)
    if seconds is None:
        raise _refuse("x-zm-request-timestamp is not a Unix time in seconds")
    now = clock.now()
    if abs(now.timestamp() - seconds) > TOLERANCE_SECONDS:
        raise _refuse("timestamp is more than 5 minutes off")
    secret = vault.open(app, "webhook_secret_token")
    if not signature_matches(secret, timestamp, body, signature):
        raise _refuse("signature does not match")
    # Remember the signature for as long as its timestamp stays acceptable: a replay is refused.
    digest = hashlib.sha256(f"{app.id}:{signature}".encode()).hexdigest()[:40]
    if not await webhooks.first_receipt(session, digest, app_id=app.id, now=now,
                                        forget_before=now - RECEIPT_TTL):
        raise _refuse("this webhook was already received (replay)")


async def _deauthorize(session: AsyncSession, clock: Clock, app: ZoomApp, payload: dict[str, Any]) -> str:
    if payload.get("client_id") not in (None, app.client_id):
        return "ignored"  # another app's event sent to this URL
    user_id = payload.get("user_id")
    if not _plain_text(user_id, 128):
        raise _invalid("app_deauthorized without a valid payload.user_id")
    connection = await connections.deauthorize(
        session, app.account_id, user_id, client_id=app.client_id, now=clock.now(),
        forget_identity=payload.get("user_data_retention") == "false")
    return "unknown_user" if connection is None else "disconnected"


@router.post(PREFIX + "{app_id}", summary="Zoom's event notifications for the customer's app",
             description=ZOOM_WEBHOOK_DESCRIPTION, responses=ZOOM_WEBHOOK_RESPONSES,
             openapi_extra=ZOOM_WEBHOOK_REQUEST)
async def zoom_webhook(app_id: str, request: Request, session: SessionDep, vault: VaultDep,
                       clock: ClockDep) -> JSONResponse:
    body = await _read_body(request)
    if not _plain_text(app_id, 200):
        raise NotFound("No Zoom app at this webhook URL", code="zoom_app_not_found")
    app = await zoom_apps.at_webhook_url(session, app_id)
    await _verify(session, vault, clock, app, request, body)
    event = _parse_event(body)
    payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
    name = event.get("event")
    if name == "endpoint.url_validation":
        plain = payload.get("plainToken")
        if not _plain_text(plain, 256):
            raise _invalid("url_validation without a valid payload.plainToken")
        secret = vault.open(app, "webhook_secret_token")
        return JSONResponse(url_validation_answer(secret, plain))
    if name == "app_deauthorized":
        return JSONResponse({"status": await _deauthorize(session, clock, app, payload)})
    return JSONResponse({"status": "ignored"})
