"""Why a connection failed and what next: ``last_error``, ``failing_since``, recovery, hints.

Every failed refresh or mint is recorded on its connection (``record_failure``) in a short
transaction of its own that writes only the ``last_error_*`` and ``failing_since`` columns, so
it never races the token columns, which only ``TokenBroker`` writes, under the row lock. A
transient failure (Zoom unavailable or rate limiting us) starts ``failing_since`` unless a run
of failures is already going; the next success (``record_success``) ends the run and, when it
lasted at least ``connection_recovery_after_seconds``, announces
``zoom_oauth_connection.recovered``. A disconnection records its reason as the last error in the
transaction that disconnects (``disconnect_failure``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.connections import events, repository
from obfbroker.connections.errors import ZoomDown
from obfbroker.connections.models import ConnectionState, DisconnectReason, FailureCode, ZoomConnection
from obfbroker.db.session import transaction
from obfbroker.errors import ObfError

MESSAGE_MAX = 500
RECONNECT_URL = "POST /api/v1/zoom/oauth/connections/{id}/reconnect-url"

# last_error codes of failures that are not a Zoom outage, by the error code the caller got.
_CODES = {
    "zoom_app_credentials_invalid": FailureCode.APP_CREDENTIALS_REJECTED,
    "zoom_app_not_configured": FailureCode.APP_NOT_CONFIGURED,
    "missing_scopes": FailureCode.MISSING_SCOPES,
    "zoom_error": FailureCode.ZOOM_ERROR,
}


@dataclass(frozen=True)
class Failure:
    """What ``last_error`` says about one failed refresh or mint."""

    code: str
    message: str
    transient: bool = False  # Zoom unavailable or rate limiting: starts ``failing_since``


def failure_of(err: ObfError, *, during: str) -> Failure | None:
    """The failure to record for ``err`` raised by a refresh or mint (``during`` says which);
    None when nothing failed at Zoom (the connection was already disconnected, or is gone)."""
    if isinstance(err, ZoomDown):
        code = FailureCode.ZOOM_RATE_LIMITED if err.rate_limited else FailureCode.ZOOM_UNAVAILABLE
        return Failure(code, f"{err.reason} during the {during}; retried with backoff, then gave up",
                       transient=True)
    code = _CODES.get(err.code)
    return Failure(code, err.detail) if code is not None else None


def disconnect_failure(reason: DisconnectReason) -> Failure:
    """The last error a disconnection for ``reason`` records."""
    return Failure(reason.value, reason.message)


def apply_failure(connection: ZoomConnection, failure: Failure, now: datetime) -> None:
    """Set ``last_error`` on a row the caller holds locked (a disconnection)."""
    connection.last_error_code = failure.code
    connection.last_error_message = failure.message[:MESSAGE_MAX]
    connection.last_error_at = now


async def record_failure(sessions: async_sessionmaker[AsyncSession], connection_id: str,
                         failure: Failure, *, now: datetime) -> None:
    """Record a failed refresh or mint in a transaction of its own (a no-op when the row is gone).
    Must not be called while this task holds the connection's lock session (SQLite would wait
    for itself)."""
    values: dict[str, Any] = {"last_error_code": failure.code,
                              "last_error_message": failure.message[:MESSAGE_MAX],
                              "last_error_at": now}
    async with transaction(sessions) as session:
        await repository.set_last_error(session, connection_id, values,
                                        failing_since=now if failure.transient else None)


async def record_success(sessions: async_sessionmaker[AsyncSession], connection_id: str, *,
                         now: datetime, recovery_after: timedelta) -> None:
    """End a run of failures, if one is going, after Zoom answered a refresh or mint; announce
    the recovery when the run lasted ``recovery_after`` or longer (once, whoever ends it)."""
    async with sessions() as session:
        since = await repository.failing_since(session, connection_id)
    if since is None:
        return
    async with transaction(sessions) as session:
        ended = await repository.end_failing_run(session, connection_id, since)
        if not ended or now - since < recovery_after:
            return
        connection = await session.get(ZoomConnection, connection_id)
        if connection is not None:
            await events.emit(session, connection, events.RECOVERED, now=now, extra={
                "failing_since": since, "recovered_at": now, "last_error": last_error(connection)})


def last_error(connection: ZoomConnection) -> dict[str, Any] | None:
    """``{"code", "message", "at"}`` of the last failed refresh or mint, or None."""
    if connection.last_error_code is None:
        return None
    return {"code": connection.last_error_code, "message": connection.last_error_message or "",
            "at": connection.last_error_at}


def reconnect_hint(connection: ZoomConnection) -> str | None:
    """What happened and the next step, in words, for a disconnected connection."""
    if connection.state != ConnectionState.DISCONNECTED:
        return None
    try:
        template = DisconnectReason(connection.disconnected_reason).hint
    except ValueError:  # a code this version does not know (written by a newer one)
        template = "This connection is disconnected. Send the user a reconnect link from {link}."
    return template.format(link=RECONNECT_URL.format(id=connection.zoom_user_id),
                           id=connection.zoom_user_id)
