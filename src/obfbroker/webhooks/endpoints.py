from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from obfbroker.deps import AccountDep, ClockDep, OutboundDep, SessionDep, VaultDep
from obfbroker.openapi import error_responses
from obfbroker.outbox.models import MessageStatus, WebhookMessage
from obfbroker.webhooks import service
from obfbroker.webhooks.models import WebhookDelivery
from obfbroker.webhooks.schemas import (
    WebhookDeliveryList,
    WebhookDeliveryRead,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointWrite,
    WebhookRetryAccepted,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
NOT_CONFIGURED = error_responses("webhook_not_configured")
MESSAGE_ID = Path(description="The message's message_id (msg_...)", examples=["msg_eee67564663fe271595d4729"],
                  json_schema_extra={"pattern": r"^[^/]+$"})
NO_SECRET = "The signing secret is never returned (only the PUT that creates it shows it)."


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
            responses=error_responses("invalid_webhook_url", "invalid_request"),
            summary="Set or replace the webhook endpoint (returns a new signing secret)",
            description="Sets your account's webhook URL, or replaces it, and returns a new Standard "
                        "Webhooks signing secret: every PUT rotates it, and this answer is the only one that "
                        "ever contains it. A failed PUT changes nothing and the old secret stays valid.")
async def put_endpoint(body: WebhookEndpointWrite, account: AccountDep, session: SessionDep,
                       outbound: OutboundDep, vault: VaultDep, clock: ClockDep) -> WebhookEndpointCreated:
    endpoint, secret = await service.put(session, account, url=body.url, outbound=outbound, vault=vault,
                                         now=clock.now())
    return WebhookEndpointCreated(url=endpoint.url, secret=secret, created_at=endpoint.created_at,
                                  updated_at=endpoint.updated_at)


@router.get("", response_model=WebhookEndpointRead, responses=NOT_CONFIGURED,
            summary="Get the webhook endpoint (never the secret)",
            description=f"Your account's webhook URL and when it was set. {NO_SECRET}")
async def get_endpoint(account: AccountDep, session: SessionDep) -> WebhookEndpointRead:
    endpoint = await service.get(session, account)
    return WebhookEndpointRead(url=endpoint.url, created_at=endpoint.created_at,
                               updated_at=endpoint.updated_at)


@router.delete("", status_code=204, responses=NOT_CONFIGURED, summary="Remove the webhook endpoint",
               description="Removes your account's webhook URL and its secret; answers 204 with no body. No "
                           "new events are recorded until one is set again; pending messages are kept, and "
                           "the delivery log too.")
async def delete_endpoint(account: AccountDep, session: SessionDep) -> Response:
    await service.delete(session, account)
    return Response(status_code=204)


@router.get("/deliveries", response_model=WebhookDeliveryList,
            responses=error_responses("invalid_request", "invalid_cursor"),
            summary="List delivery attempts, newest first",
            description="Every delivery attempt of your account's messages (webhook endpoint and bots' "
                        "callback_url), newest first, one page at a time, with the message's status now. "
                        "Payloads and secrets are not shown.")
async def list_deliveries(
    account: AccountDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> WebhookDeliveryList:
    rows, next_cursor = await service.list_deliveries(session, account, limit=limit, cursor=cursor)
    return WebhookDeliveryList(deliveries=[delivery_read(d, m) for d, m in rows], next_cursor=next_cursor)


@router.post("/deliveries/{message_id}/retry", status_code=202, response_model=WebhookRetryAccepted,
             responses=error_responses("webhook_message_not_found"), summary="Send a message again now",
             description="Queues a message, whatever its status, to be sent again at the next delivery round "
                         "with the same webhook-id and body, signed with the current secret, with a new "
                         "24-hour retry window. No body.")
async def retry_message(message_id: Annotated[str, MESSAGE_ID], account: AccountDep, session: SessionDep,
                        clock: ClockDep) -> WebhookRetryAccepted:
    message = await service.retry(session, account, message_id, now=clock.now())
    return WebhookRetryAccepted(message_id=message.id, status=message.status)
