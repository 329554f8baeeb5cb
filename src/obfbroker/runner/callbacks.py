"""The bot's ``callback_url``: told of every status change, best effort, signed like webhooks."""

from __future__ import annotations

import json
import logging
import time

import httpx
from sqlalchemy import select

from obfbroker.bots.models import Bot
from obfbroker.runtime import Runtime
from obfbroker.schemas import format_timestamp

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5


async def _signing_secret(runtime: Runtime, account_id: str) -> str | None:
    from obfbroker.webhooks.models import WebhookEndpoint

    async with runtime.sessions() as session:
        endpoint = (await session.execute(select(WebhookEndpoint).where(
            WebhookEndpoint.account_id == account_id))).scalar_one_or_none()
        if endpoint is None:
            return None
        return runtime.vault.decrypt(endpoint.secret, table="webhook_endpoints", column="secret",
                                     row_id=endpoint.id)


async def post_callback(runtime: Runtime, http: httpx.AsyncClient, bot: Bot) -> None:
    """POST the bot's new status to its callback_url; signed with the account's webhook secret
    when one is configured. One attempt: the outbox webhook is the reliable channel."""
    from obfbroker.webhooks.signing import sign

    body = json.dumps({"bot_id": bot.id, "status": bot.status, "reason": bot.reason,
                       "at": format_timestamp(bot.updated_at),
                       "custom_attributes": bot.custom_attributes}, separators=(",", ":"))
    headers = {"content-type": "application/json", "user-agent": "obfbroker-callbacks/1"}
    secret = await _signing_secret(runtime, bot.account_id)
    if secret is not None:
        message_id, timestamp = f"cb_{bot.id}_{int(time.time() * 1000)}", int(time.time())
        headers.update({"webhook-id": message_id, "webhook-timestamp": str(timestamp),
                        "webhook-signature": sign(secret, message_id, timestamp, body)})
    try:
        await http.post(bot.callback_url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as err:
        log.warning("bot callback failed", extra={"bot_id": bot.id, "error": type(err).__name__})
