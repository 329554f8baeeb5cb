"""Customer webhook events about connections, written to the outbox with the change itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.connections.models import ZoomConnection
from obfbroker.schemas import format_timestamp
from obfbroker.webhooks import outbox

CONNECTED = "zoom_oauth_connection.connected"
RECONNECTED = "zoom_oauth_connection.reconnected"
DISCONNECTED = "zoom_oauth_connection.disconnected"


def event_data(connection: ZoomConnection) -> dict[str, Any]:
    """The connection as the event carries it (never token material)."""
    data: dict[str, Any] = {
        "zoom_user_id": connection.zoom_user_id, "zoom_account_id": connection.zoom_account_id,
        "email": connection.email, "display_name": connection.display_name,
        "metadata": connection.metadata_ or {}, "state": connection.state,
    }
    if connection.disconnected_reason:
        data["reason"] = connection.disconnected_reason
        data["disconnected_at"] = format_timestamp(connection.disconnected_at)
    return data


async def emit(session: AsyncSession, connection: ZoomConnection, event_type: str, *,
               now: datetime) -> None:
    """Queue ``event_type`` about ``connection`` in the caller's transaction."""
    await outbox.emit(session, account_id=connection.account_id, event_type=event_type,
                      data=event_data(connection), now=now)
