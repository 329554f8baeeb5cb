"""Errors customers see about connections and Zoom, shared by the API and the token server."""

from __future__ import annotations

from enum import StrEnum

from obfbroker.errors import BadRequest, Conflict, NotFound, ObfError
from obfbroker.zoom.errors import ZoomError, ZoomErrorKind, classify

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
                 reason: str = "Zoom is unavailable") -> None:
        seconds = max(1, round(retry_after or 5))
        super().__init__("Zoom is unavailable or rate limiting us; retry later", code="zoom_unavailable",
                         status_code=503, headers={"Retry-After": str(seconds)})
        self.rate_limited = rate_limited
        self.reason = reason


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


REDIRECT_ADVICE = (
    "Confirm the three redirect_uri strings match Zoom's registered URL (the Zoom app's "
    "redirect URL, the authorize-url redirect_uri and this redirect_uri, byte for byte) and "
    "that the same user API key is used for authorize-url and connection-create"
)


class ZoomCall(StrEnum):
    """Which call to Zoom failed, as the customer's answer names it."""

    EXCHANGE = "exchange"
    IDENTIFY = "GET /users/me"
    MINT = "token mint"


def customer_error(err: ZoomError, *, during: ZoomCall) -> ObfError:
    """The answer the customer gets for a failed call to Zoom (never with Zoom's raw text), by
    the failure's kind (``zoom.errors.classify``) and the call. A refresh's failures are not
    here: an invalid grant disconnects and the others are retried (``connections.tokens``)."""
    kind = classify(err)
    if kind.transient:
        return ZoomDown(getattr(err, "retry_after", None), rate_limited=kind is ZoomErrorKind.RATE_LIMITED,
                        reason=err.reason)
    if during is ZoomCall.MINT:
        if kind is ZoomErrorKind.MISSING_SCOPES:
            scopes = ", ".join(err.scopes) or "the needed scope"
            return Conflict(f"The Zoom user did not grant {scopes}; add it to the Zoom app and have the user "
                            "authorize again", code="missing_scopes")
        if kind is ZoomErrorKind.NOT_MEETING_HOST:
            return Conflict("This Zoom user does not host the meeting: only the host's grant mints its "
                            "local-recording join token", code="not_meeting_host",
                            extra={"zoom_code": err.zoom_code})
        extra = {"zoom_code": err.zoom_code} if err.zoom_code is not None else {}
        return ObfError(f"Zoom refused to mint the token ({err.reason})", code="zoom_error", status_code=502,
                        extra=extra)
    if kind is ZoomErrorKind.INVALID_CLIENT:
        return app_credentials_rejected(status_code=400)
    if kind in (ZoomErrorKind.INVALID_REQUEST, ZoomErrorKind.INVALID_GRANT) and during is ZoomCall.EXCHANGE:
        code = "redirect_uri_mismatch" if getattr(err, "redirect_mismatch", False) else "zoom_code_rejected"
        return BadRequest(f"Zoom rejected the authorization code ({err.reason}). {REDIRECT_ADVICE}. "
                          "Codes are single-use and expire 5 minutes after consent.", code=code)
    if kind is ZoomErrorKind.MISSING_SCOPES:
        return missing_scopes(err.scopes or list(REQUIRED_SCOPES))
    return ObfError(f"Zoom answered an unexpected error during {during} ({err.reason})",
                    code="zoom_error", status_code=502)
