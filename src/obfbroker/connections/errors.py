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


def zoom_unavailable(retry_after: float | None) -> ObfError:
    """Zoom down, timing out or rate limiting us: retryable, never anyone's disconnection."""
    seconds = max(1, round(retry_after or 5))
    return ObfError("Zoom is unavailable or rate limiting us; retry later", code="zoom_unavailable",
                    status_code=503, headers={"Retry-After": str(seconds)})


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
