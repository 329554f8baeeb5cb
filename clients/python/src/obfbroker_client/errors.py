"""Exceptions raised by the obfbroker client.

Every failed call raises an :class:`ObfBrokerError`: an answer with an error status carries the
API's ``status``, stable ``code`` and human ``detail``; a request that got no answer at all is a
:class:`TransportError`. Branch on ``code``, not on the text. The API key never appears in any
of them.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "InvalidApiKeyError",
    "NotFoundError",
    "ObfBrokerError",
    "ServiceUnavailableError",
    "TransportError",
    "ValidationError",
]


class ObfBrokerError(Exception):
    """A call to obfbroker failed.

    ``status`` is the HTTP status (``None`` when no answer came), ``code`` the API's stable
    snake_case code, ``detail`` its human-readable message, ``retry_after`` the seconds the
    ``Retry-After`` header asked to wait (``None`` without one), ``body`` the decoded error body.
    """

    def __init__(self, detail: str, *, status: int | None = None, code: str = "error",
                 retry_after: float | None = None, body: dict[str, Any] | None = None,
                 method: str | None = None, path: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.body = body or {}
        self.method = method
        self.path = path

    @property
    def message(self) -> str:
        """The same text as ``detail`` (the API's ``message`` field)."""
        return self.detail

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method and self.path else ""
        status = f"{self.status} " if self.status is not None else ""
        return f"{status}{self.code}: {self.detail}{where}"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
                f"detail={self.detail!r}, retry_after={self.retry_after!r})")


class ValidationError(ObfBrokerError):
    """400: the request was refused; ``code`` says which rule (e.g. ``invalid_redirect_uri``)."""


class AuthenticationError(ObfBrokerError):
    """401: no API key reached obfbroker, or the Authorization header was malformed."""


class InvalidApiKeyError(AuthenticationError):
    """403 ``invalid_api_key``: the key was received and rejected (unknown or revoked)."""


class NotFoundError(ObfBrokerError):
    """404: no such object for this account (another account's objects are 404 too)."""


class ConflictError(ObfBrokerError):
    """409: ``code_exchange_in_progress`` (retry after ``retry_after`` seconds), or
    ``reconnected_other_user``: a reconnect link's code came back for another Zoom user, whose
    grant was revoked; nothing was stored. To accept that user, they authorize again and
    create_connection gets ``allow_other_user=True``."""


class ServiceUnavailableError(ObfBrokerError):
    """502/503/504: obfbroker or Zoom behind it is unavailable; retry after ``retry_after``."""


class TransportError(ObfBrokerError):
    """No answer came (connection refused, DNS failure, timeout...). ``status`` is ``None``.

    The request may or may not have reached obfbroker. Retrying is safe for reads and for
    connection-create (the same ``code`` and ``redirect_uri`` within 10 minutes answers the
    connection the first call made); for create_bot, send an ``idempotency_key`` and retry with it.
    """


_BY_STATUS: dict[int, type[ObfBrokerError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: InvalidApiKeyError,
    404: NotFoundError,
    409: ConflictError,
    502: ServiceUnavailableError,
    503: ServiceUnavailableError,
    504: ServiceUnavailableError,
}


def error_class(status: int) -> type[ObfBrokerError]:
    return _BY_STATUS.get(status, ObfBrokerError)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
