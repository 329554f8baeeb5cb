"""Customer webhook events about connections, written to the outbox with the change itself.
Each is stored with the connection's id as its subject, so erasing the connection can scrub
the end-user's identity from every event about it (``flows.erase``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.connections.models import ZoomConnection
from obfbroker.outbox import service as outbox
from obfbroker.schemas import format_timestamp

CONNECTED = "zoom_oauth_connection.connected"
RECONNECTED = "zoom_oauth_connection.reconnected"
DISCONNECTED = "zoom_oauth_connection.disconnected"
RECOVERED = "zoom_oauth_connection.recovered"
TYPES = (CONNECTED, RECONNECTED, DISCONNECTED, RECOVERED)
# data.reason of the .disconnected announcing a customer's DELETE (not a disconnected_reason:
# a deleted connection is erased, so no row ever has it).
DELETED = "deleted"
# What erasing a connection blanks in the events about it: who the end-user was.
IDENTITY_BLANKS: dict[str, Any] = {"email": "", "display_name": "", "metadata": {}}


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
               now: datetime, extra: dict[str, Any] | None = None) -> None:
    """Queue ``event_type`` about ``connection`` in the caller's transaction; ``extra`` adds to
    (or overrides) the connection's event data."""
    await outbox.emit(session, account_id=connection.account_id, event_type=event_type,
                      data={**event_data(connection), **(extra or {})}, now=now,
                      subject_id=connection.id)


async def scrub(session: AsyncSession, connection: ZoomConnection) -> int:
    """Blank the end-user's identity in every stored event about ``connection``."""
    return await outbox.scrub(session, account_id=connection.account_id, subject_id=connection.id,
                              event_types=TYPES, blanks=IDENTITY_BLANKS)
