"""What a bot's status change tells the customer: the signed ``bot.status_changed`` webhook and
the bot's ``callback_url``, both in MeetStream's vocabulary beside our own fields.

Both are written to the outbox in the transaction of the change itself, so they exist exactly
when the change was committed, whichever process made it (the runner, or a leave request for a
bot no worker holds). Callbacks are one ordered stream per bot: one delivery each time the
MeetStream ``bot_status`` changes (from the first join attempt on), one terminal ``bot.stopped``
and a final ``bot.done``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.bots.meetstream import DONE_EVENT, DONE_MESSAGE, MeetStreamStatus, Vocabulary, vocabulary
from obfbroker.bots.models import Bot, BotStatus
from obfbroker.outbox import service as outbox
from obfbroker.schemas import format_timestamp

STATUS_CHANGED = "bot.status_changed"
DONE = "bot.done"


def meetstream_fields(bot: Bot, words: Vocabulary) -> dict[str, Any]:
    """``event``, ``bot_event``, ``bot_id``, ``bot_status``, ``message``, ``status_code``,
    ``timestamp`` and ``custom_attributes``, as MeetStream's clients read them."""
    return {"event": words.event, "bot_event": words.bot_event, "bot_id": bot.id,
            "bot_status": words.bot_status.value, "message": words.message,
            "status_code": words.status_code, "timestamp": format_timestamp(bot.updated_at),
            "custom_attributes": bot.custom_attributes}


def own_fields(bot: Bot, connection_user_id: str | None) -> dict[str, Any]:
    """Our finer fields: ``status``, ``reason``, ``at`` and who the bot acts for."""
    fields: dict[str, Any] = {"status": bot.status, "reason": bot.reason,
                              "at": format_timestamp(bot.updated_at)}
    if connection_user_id:
        fields["zoom_oauth_connection_user_id"] = connection_user_id
    if bot.acting_for_zoom_user_id:
        fields["acting_for_zoom_user_id"] = bot.acting_for_zoom_user_id
    return fields


#: The last delivery of every bot, after its terminal one.
DONE_WORDS = Vocabulary(MeetStreamStatus.DONE, DONE_EVENT, DONE_MESSAGE)


def payload(bot: Bot, words: Vocabulary, connection_user_id: str | None) -> dict[str, Any]:
    """One delivery's JSON: MeetStream's fields, then ours."""
    body = meetstream_fields(bot, words)
    body.update(own_fields(bot, connection_user_id))
    return body


async def announce(session: AsyncSession, bot: Bot, connection_user_id: str | None, *,
                   now: datetime) -> None:
    """Queue the webhook(s) and callback(s) for the status the bot has just been given."""
    words = vocabulary(bot.status, bot.reason)
    deliveries = [(STATUS_CHANGED, words)] + ([(DONE, DONE_WORDS)] if words.terminal else [])
    for event_type, said in deliveries:
        await outbox.emit(session, account_id=bot.account_id, event_type=event_type,
                          data=payload(bot, said, connection_user_id), now=now)
    if not bot.callback_url or bot.status == BotStatus.QUEUED:
        return  # MeetStream's stream starts with the first join attempt
    if words.bot_status.value == bot.callback_bot_status:
        return  # e.g. joining -> waiting_for_authorizing_user: still Joining
    bot.callback_bot_status = words.bot_status.value
    for _event_type, said in deliveries:
        bot.callback_sequence += 1
        await outbox.emit_callback(session, account_id=bot.account_id, url=bot.callback_url,
                                   stream_key=bot.id, sequence=bot.callback_sequence,
                                   event_type=said.bot_event, body=payload(bot, said, connection_user_id),
                                   now=now)
