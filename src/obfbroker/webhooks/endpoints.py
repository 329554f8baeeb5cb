from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from obfbroker.deps import AccountDep, RuntimeDep, SessionDep
from obfbroker.schemas import ERROR_RESPONSES, ErrorRead
from obfbroker.webhooks import service
from obfbroker.webhooks.models import MessageStatus, WebhookDelivery, WebhookMessage
from obfbroker.webhooks.schemas import (
    WebhookDeliveryList,
    WebhookDeliveryRead,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointWrite,
    WebhookRetryAccepted,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
NOT_CONFIGURED = {404: {"model": ErrorRead, "description": "No webhook endpoint configured"}}
NO_MESSAGE = {404: {"model": ErrorRead, "description": "No such message for this account"}}


def delivery_read(delivery: WebhookDelivery, message: WebhookMessage) -> WebhookDeliveryRead:
    pending = message.status == MessageStatus.PENDING
    return WebhookDeliveryRead(
        id=delivery.id, message_id=delivery.message_id, event_type=delivery.event_type,
        target="webhook_endpoint" if message.target_url is None else "callback_url",
        attempt=delivery.attempt, attempted_at=delivery.attempted_at, succeeded=delivery.succeeded,
        response_status=delivery.response_status, error=delivery.error,
        response_body=delivery.response_body, duration_ms=delivery.duration_ms,
        message_status=message.status, next_attempt_at=message.next_attempt_at if pending else None,
    )


@router.put("", response_model=WebhookEndpointCreated,
            summary="Set or replace the webhook endpoint (returns a new signing secret)")
async def put_endpoint(body: WebhookEndpointWrite, account: AccountDep, session: SessionDep,
                       runtime: RuntimeDep) -> WebhookEndpointCreated:
    endpoint, secret = await service.put(session, runtime, account, url=body.url)
    return WebhookEndpointCreated(url=endpoint.url, secret=secret, created_at=endpoint.created_at,
                                  updated_at=endpoint.updated_at)


@router.get("", response_model=WebhookEndpointRead, responses=NOT_CONFIGURED,
            summary="Get the webhook endpoint (never the secret)")
async def get_endpoint(account: AccountDep, session: SessionDep) -> WebhookEndpointRead:
    endpoint = await service.get(session, account)
    return WebhookEndpointRead(url=endpoint.url, created_at=endpoint.created_at,
                               updated_at=endpoint.updated_at)


@router.delete("", status_code=204, responses=NOT_CONFIGURED, summary="Remove the webhook endpoint")
async def delete_endpoint(account: AccountDep, session: SessionDep) -> Response:
    await service.delete(session, account)
    return Response(status_code=204)


@router.get("/deliveries", response_model=WebhookDeliveryList,
            summary="List delivery attempts, newest first")
async def list_deliveries(
    account: AccountDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> WebhookDeliveryList:
    rows, next_cursor = await service.list_deliveries(session, account, limit=limit, cursor=cursor)
    return WebhookDeliveryList(deliveries=[delivery_read(d, m) for d, m in rows], next_cursor=next_cursor)


@router.post("/deliveries/{message_id}/retry", status_code=202, response_model=WebhookRetryAccepted,
             responses=NO_MESSAGE, summary="Send a message again now")
async def retry_message(message_id: str, account: AccountDep, session: SessionDep,
                        runtime: RuntimeDep) -> WebhookRetryAccepted:
    message = await service.retry(session, runtime, account, message_id)
    return WebhookRetryAccepted(message_id=message.id, status=message.status)
