"""Errors customers see about connections and Zoom, shared by the API and the token server."""

from __future__ import annotations

from obfbroker.errors import BadRequest, Conflict, NotFound, ObfError

REQUIRED_SCOPES = ("user:read:user", "user:read:token")


def not_connected(zoom_user_id: str) -> NotFound:
    return NotFound(f"Zoom user {zoom_user_id} is not connected for this account",
                    code="zoom_user_not_connected")


def disconnected(zoom_user_id: str) -> Conflict:
    return Conflict(f"Zoom user {zoom_user_id} is disconnected (no valid refresh token)",
                    code="zoom_user_disconnected")


class ZoomDown(ObfError):
    """Zoom down, timing out or rate limiting us: retryable, never anyone's disconnection.
    ``rate_limited`` and ``reason`` (Zoom's failure in words, never a token) say what
    happened, for the connection's ``last_error``; the customer's answer is the same for both."""

    def __init__(self, retry_after: float | None, *, rate_limited: bool = False,
                 reason: str = "Zoom is unavailable"):
        seconds = max(1, round(retry_after or 5))
        super().__init__("Zoom is unavailable or rate limiting us; retry later", code="zoom_unavailable",
                         status_code=503, headers={"Retry-After": str(seconds)})
        self.rate_limited = rate_limited
        self.reason = reason


def zoom_unavailable(retry_after: float | None) -> ObfError:
    """Zoom down, timing out or rate limiting us (see ``ZoomDown``)."""
    return ZoomDown(retry_after)


def app_credentials_rejected(*, status_code: int) -> ObfError:
    """Bad client id or secret: the app's fault, so no connection is touched."""
    return ObfError("Zoom rejected the Zoom app's client_id or client_secret; update them with "
                    "PUT /api/v1/zoom/oauth/app", code="zoom_app_credentials_invalid",
                    status_code=status_code)


def missing_scopes(missing: list[str]) -> BadRequest:
    return BadRequest(
        f"The Zoom app did not grant the required scopes: missing {', '.join(missing)}. Add "
        f"{', '.join(REQUIRED_SCOPES)} to the Zoom app's scopes and have the user authorize again",
        code="missing_scopes")
