"""The list's query filters (``email``, ``zoom_account_id``, ``metadata.<key>``,
``created_after``/``created_before``, ``state``): checked here, each with its own 400, into a
``ConnectionFilter`` that ``connections.repository`` turns into SQL answered from an index."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from obfbroker.connections.metadata import MAX_KEY_LENGTH, MAX_VALUE_LENGTH
from obfbroker.connections.models import ConnectionState
from obfbroker.errors import BadRequest

METADATA_PREFIX = "metadata."
MAX_METADATA_FILTERS = 5
MAX_EMAIL_LENGTH = 320
MAX_ZOOM_ACCOUNT_ID_LENGTH = 200
# RFC 3339: a date, a time and an offset (Z or +hh:mm / -hh:mm).
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class ConnectionFilter:
    """What a page of the list is restricted to (every field optional; all are AND-ed)."""

    state: str | None = None
    email_prefix: str | None = None  # lowercased
    zoom_account_id: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    created_since: datetime | None = None  # created_at >= this
    created_until: datetime | None = None  # created_at < this


def _state(value: str | None) -> str | None:
    if value is not None and value not in {s.value for s in ConnectionState}:
        raise BadRequest("state must be connected or disconnected", code="invalid_state_filter")
    return value


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_EMAIL_LENGTH:
        raise BadRequest(f"email must be 1 to {MAX_EMAIL_LENGTH} characters: the start of the "
                         "email addresses to find (case-insensitive)", code="invalid_email_filter")
    return value.lower()


def _zoom_account_id(value: str | None) -> str | None:
    if value is not None and not 1 <= len(value) <= MAX_ZOOM_ACCOUNT_ID_LENGTH:
        raise BadRequest(f"zoom_account_id must be 1 to {MAX_ZOOM_ACCOUNT_ID_LENGTH} characters",
                         code="invalid_zoom_account_id_filter")
    return value


def timestamp(name: str, value: str | None) -> datetime | None:
    """An RFC 3339 timestamp with an offset, in UTC; ``invalid_timestamp`` otherwise."""
    if value is None:
        return None
    when = None
    if RFC3339.fullmatch(value):
        try:
            when = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            when = None
    if when is None:
        raise BadRequest(f"{name} must be an RFC 3339 timestamp with an offset, e.g. "
                         "2026-12-01T15:00:00Z (in a query string, send + as %2B)",
                         code="invalid_timestamp")
    return when.astimezone(UTC)


def _to_millisecond(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def created_bounds(after: datetime | None,
                   before: datetime | None) -> tuple[datetime | None, datetime | None]:
    """``created_after``/``created_before`` compared with ``created_at`` as the API shows it (to
    the millisecond), so passing back a connection's own ``created_at`` leaves it out: the
    inclusive lower and exclusive upper bound on the stored, finer value."""
    since = _to_millisecond(after) + MILLISECOND if after is not None else None
    until = None
    if before is not None:
        until = _to_millisecond(before)
        if until < before:
            until += MILLISECOND
    return since, until


def _metadata(params: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    pairs = [(name[len(METADATA_PREFIX):], value) for name, value in params
             if name.startswith(METADATA_PREFIX)]
    if len(pairs) > MAX_METADATA_FILTERS:
        raise BadRequest(f"at most {MAX_METADATA_FILTERS} metadata.<key>=<value> filters can be "
                         f"combined (got {len(pairs)})", code="invalid_metadata_filter")
    for key, value in pairs:
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise BadRequest(f"metadata filter keys must be 1 to {MAX_KEY_LENGTH} characters: "
                             "metadata.<key>=<value>", code="invalid_metadata_filter")
        if len(value) > MAX_VALUE_LENGTH:
            raise BadRequest(f"metadata.{key} must be at most {MAX_VALUE_LENGTH} characters: longer "
                             "values are not searchable", code="invalid_metadata_filter")
    return tuple(pairs)


def parse_filter(params: Iterable[tuple[str, str]], *, state: str | None, email: str | None,
                 zoom_account_id: str | None, created_after: str | None,
                 created_before: str | None) -> ConnectionFilter:
    """The filter a list request asks for; ``params`` are all its query parameters, of which
    the ``metadata.<key>`` ones are read."""
    since, until = created_bounds(timestamp("created_after", created_after),
                                  timestamp("created_before", created_before))
    return ConnectionFilter(
        state=_state(state), email_prefix=_email(email),
        zoom_account_id=_zoom_account_id(zoom_account_id), metadata=_metadata(params),
        created_since=since, created_until=until)
