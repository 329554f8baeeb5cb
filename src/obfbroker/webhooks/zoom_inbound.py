"""Webhooks from Zoom to the customer's app (``webhook_url``): verified, then acted on.

Signature (``x-zm-signature``) over the raw body with the app's webhook secret token, compared in
constant time; timestamps more than 5 minutes off are refused, and so is a signature already
seen (replays). ``endpoint.url_validation`` is answered; ``app_deauthorized`` disconnects that
Zoom user's connection at once and deletes its token material (the connection stays listed, with
reason ``app_deauthorized``, until the customer deletes it or the user reconnects). Bodies are
never logged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.connections import service as connections
from obfbroker.deps import RuntimeDep, SessionDep
from obfbroker.errors import BadRequest, Unauthorized
from obfbroker.runtime import Runtime
from obfbroker.webhooks import repository
from obfbroker.zoom.signatures import TOLERANCE_SECONDS, signature_matches, url_validation_answer
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.models import ZoomApp

router = APIRouter(tags=["zoom webhooks"])
MAX_BODY = 64 * 1024
RECEIPT_TTL = timedelta(seconds=2 * TOLERANCE_SECONDS)


def _refuse(reason: str) -> Unauthorized:
    return Unauthorized(f"Zoom webhook refused: {reason}", code="invalid_zoom_signature")


async def _verify(session: AsyncSession, runtime: Runtime, app: ZoomApp, request: Request,
                  body: bytes) -> None:
    if app.webhook_secret_token is None:
        raise _refuse("no webhook_secret_token is configured for this Zoom app")
    timestamp = request.headers.get("x-zm-request-timestamp", "")
    signature = request.headers.get("x-zm-signature", "")
    if not timestamp.isdigit() or not signature:
        raise _refuse("missing x-zm-request-timestamp or x-zm-signature")
    now = runtime.clock.now()
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise _refuse("timestamp is more than 5 minutes off")
    secret = runtime.vault.open(app, "webhook_secret_token")
    if not signature_matches(secret, timestamp, body, signature):
        raise _refuse("signature does not match")
    # Remember the signature for as long as its timestamp stays acceptable: a replay is refused.
    await repository.forget_zoom_receipts(session, received_before=now - RECEIPT_TTL)
    digest = hashlib.sha256(f"{app.id}:{signature}".encode()).hexdigest()[:40]
    if not await repository.record_zoom_receipt(session, digest, app_id=app.id, now=now):
        raise _refuse("this webhook was already received (replay)")


async def _deauthorize(session: AsyncSession, runtime: Runtime, app: ZoomApp,
                       payload: dict[str, Any]) -> str:
    if payload.get("client_id") not in (None, app.client_id):
        return "ignored"  # another app's event sent to this URL
    user_id = payload.get("user_id")
    if not isinstance(user_id, str):
        raise BadRequest("app_deauthorized without payload.user_id", code="invalid_zoom_event")
    connection = await connections.deauthorize(
        session, runtime, app.account_id, user_id,
        forget_identity=payload.get("user_data_retention") == "false")
    return "unknown_user" if connection is None else "disconnected"


@router.post("/webhooks/zoom/{app_id}", summary="Zoom's event notifications for the customer's app")
async def zoom_webhook(app_id: str, request: Request, session: SessionDep,
                       runtime: RuntimeDep) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadRequest("webhook body too large", code="payload_too_large")
    app = await zoom_apps.at_webhook_url(session, app_id)
    await _verify(session, runtime, app, request, body)
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("webhook body is not JSON", code="invalid_zoom_event") from None
    if not isinstance(event, dict):
        raise BadRequest("webhook body is not a JSON object", code="invalid_zoom_event")
    payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
    name = event.get("event")
    if name == "endpoint.url_validation":
        plain = payload.get("plainToken")
        if not isinstance(plain, str) or not plain:
            raise BadRequest("url_validation without payload.plainToken", code="invalid_zoom_event")
        secret = runtime.vault.open(app, "webhook_secret_token")
        return JSONResponse(url_validation_answer(secret, plain))
    if name == "app_deauthorized":
        return JSONResponse({"status": await _deauthorize(session, runtime, app, payload)})
    return JSONResponse({"status": "ignored"})
