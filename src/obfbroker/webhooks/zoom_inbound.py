"""Webhooks from Zoom to the customer's app (``webhook_url``): verified, then acted on.

Signature (``x-zm-signature``) over the raw body with the app's webhook secret token, compared in
constant time; timestamps more than 5 minutes off are refused, and so is a signature already
seen (replays). ``endpoint.url_validation`` is answered; ``app_deauthorized`` disconnects that
Zoom user's connection at once and deletes its token material. Bodies are never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.connections import events
from obfbroker.connections.models import (
    ConnectionState,
    DisconnectReason,
    ZoomConnection,
    ZoomWebhookReceipt,
)
from obfbroker.connections.tokens import purge_tokens
from obfbroker.deps import RuntimeDep, SessionDep
from obfbroker.errors import BadRequest, NotFound, Unauthorized
from obfbroker.runtime import Runtime
from obfbroker.zoom.signatures import TOLERANCE_SECONDS, signature_matches, url_validation_answer
from obfbroker.zoom_apps.models import ZoomApp

log = logging.getLogger(__name__)
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
    secret = runtime.vault.decrypt(app.webhook_secret_token, table="zoom_apps",
                                   column="webhook_secret_token", row_id=app.id)
    if not signature_matches(secret, timestamp, body, signature):
        raise _refuse("signature does not match")
    # Remember the signature for as long as its timestamp stays acceptable: a replay is refused.
    expired = ZoomWebhookReceipt.received_at < now - RECEIPT_TTL
    await session.execute(delete(ZoomWebhookReceipt).where(expired))
    digest = hashlib.sha256(f"{app.id}:{signature}".encode()).hexdigest()[:40]
    try:
        async with session.begin_nested():
            session.add(ZoomWebhookReceipt(id=digest, app_id=app.id, received_at=now))
    except IntegrityError:
        raise _refuse("this webhook was already received (replay)") from None


async def _deauthorize(session: AsyncSession, runtime: Runtime, app: ZoomApp,
                       payload: dict[str, Any]) -> str:
    if payload.get("client_id") not in (None, app.client_id):
        return "ignored"  # another app's event sent to this URL
    user_id = payload.get("user_id")
    if not isinstance(user_id, str):
        raise BadRequest("app_deauthorized without payload.user_id", code="invalid_zoom_event")
    connection = (await session.execute(select(ZoomConnection).where(
        ZoomConnection.account_id == app.account_id, ZoomConnection.zoom_user_id == user_id,
    ).with_for_update())).scalar_one_or_none()
    if connection is None:
        return "unknown_user"
    was_connected = connection.state == ConnectionState.CONNECTED
    if was_connected or connection.has_refresh_token:
        purge_tokens(connection, reason=DisconnectReason.DEAUTHORIZED, now=runtime.clock.now())
        await session.flush()
    if was_connected:
        # The event carries who it was, so the customer is told before identity is dropped.
        await events.emit(session, connection, events.DISCONNECTED, now=runtime.clock.now())
    if payload.get("user_data_retention") == "false":
        connection.email = connection.display_name = connection.zoom_account_id = ""
        await session.flush()
    log.info("Zoom user deauthorized the app; connection disconnected",
             extra={"connection_id": connection.id})
    return "disconnected"


@router.post("/webhooks/zoom/{app_id}", summary="Zoom's event notifications for the customer's app")
async def zoom_webhook(app_id: str, request: Request, session: SessionDep,
                       runtime: RuntimeDep) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadRequest("webhook body too large", code="payload_too_large")
    app = await session.get(ZoomApp, app_id) if len(app_id) <= 40 else None
    if app is None:
        raise NotFound("No Zoom app at this webhook URL", code="zoom_app_not_found")
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
        secret = runtime.vault.decrypt(app.webhook_secret_token, table="zoom_apps",
                                       column="webhook_secret_token", row_id=app.id)
        return JSONResponse(url_validation_answer(secret, plain))
    if name == "app_deauthorized":
        return JSONResponse({"status": await _deauthorize(session, runtime, app, payload)})
    return JSONResponse({"status": "ignored"})
