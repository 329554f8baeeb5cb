"""Structured JSON logs with a redaction filter as a last line of defence.

Ours rather than structlog's: every library already logs through the standard ``logging``, and
the redaction has to see their records too, so one formatter and one filter on the root handler.

Code never logs token material on purpose; the filter catches accidents (a library
logging a URL or a header) by scrubbing anything shaped like a credential: ``name: value`` and
``name=value`` where the name holds secret, token, password, api key or credential (also inside a
compound, ``bot_secret``, ``obf_token``), ``code`` and ``zak``; ``Bearer``/``Basic``/``Token``
values; API keys; passwords in URLs; JWTs. Query values (after ``?``, ``&`` or ``;``) whose names
look secret (any name containing secret, token, code, key, pass, pwd, signature, auth,
credential, session or jwt: ``bot_secret``, ``api_key``, ``passcode``) are replaced too, which
covers uvicorn's access log: it passes the path with its query as a record argument, and the
filter redacts the formatted message. Values of structured ``extra`` fields are scrubbed when
they are strings.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from urllib.parse import unquote_plus

# (pattern, what keeps its place): the value goes, the name or shape around it stays.
_SECRET_PATTERNS = [
    # name: value / name=value, the name anywhere in a compound (bot_secret, obf_token, api-key)
    (re.compile(r"(?i)(?<![\w-])([\w-]*(?:secret|token|passw(?:or)?d|pwd|api_?key|credential)[\w-]*|code|zak)"
                r"(\"?\s*[:=]\s*\"?)[^\s\"&,;]+"), r"\1\2[redacted]"),
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2[redacted]"),
    (re.compile(r"obf_live_[A-Za-z0-9_-]+"), "[redacted]"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), r"\1[redacted]@"),  # a password in a URL
    (re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"), "[redacted]"),  # a JWT (ZAK, SDK JWT)
]
_SECRET_NAME_PARTS = ("secret", "token", "code", "key", "pass", "pwd", "signature", "auth",
                      "credential", "session", "jwt")
# name=value after ? or & (or ;), up to the next separator, quote or whitespace.
_QUERY_PAIR = re.compile(r"([?&;])([^=&;#\s\"'?]+)=([^&;#\s\"']*)")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}


def _secret_name(name: str) -> bool:
    lowered = unquote_plus(name).lower()
    return any(part in lowered for part in _SECRET_NAME_PARTS)


def redact_query_values(text: str) -> str:
    """``?bot_secret=s&meeting_number=1`` -> ``?bot_secret=[redacted]&meeting_number=1``."""
    return _QUERY_PAIR.sub(
        lambda m: f"{m[1]}{m[2]}=[redacted]" if m[3] and _secret_name(m[2]) else m[0], text)


def redact(text: str) -> str:
    text = redact_query_values(text)
    for pattern, keep in _SECRET_PATTERNS:
        text = pattern.sub(keep, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        record._obf_redacted = True  # the formatter need not scrub the message again
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message if getattr(record, "_obf_redacted", False) else redact(message),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact(str(value)) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # httpx logs every request it sends at INFO ("HTTP Request: GET ..."): one more line per
    # token mint, saying what the access log and the Zoom call metrics already say. Kept for DEBUG.
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
