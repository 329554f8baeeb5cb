"""What /openapi.json says about errors, and the touches FastAPI's generator can't make.

Every error answers ``{"detail", "code", "message"}`` (the ``Error`` component). Each operation
lists, per status, the stable codes it can answer (``error_responses``), as an enum on ``code``:
schemathesis (tests/core/test_openapi_conformance.py) holds the API to that list. Request
validation answers 400 here (errors.py), so ``finish`` takes FastAPI's 422 and its
HTTPValidationError/ValidationError schemas out of the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from obfbroker.errors import error_body
from obfbroker.schemas import ErrorRead

ERROR_REF = "#/components/schemas/Error"
_CONNECT = ("No Zoom app is configured for this account; set its credentials first with PUT "
            "/api/v1/zoom/oauth/app")
_REDIRECT_ADVICE = ("Confirm the three redirect_uri strings match Zoom's registered URL (the Zoom app's "
                    "redirect URL, the authorize-url redirect_uri and this redirect_uri, byte for byte) and "
                    "that the same user API key is used for authorize-url and connection-create. Codes are "
                    "single-use and expire 5 minutes after consent.")

# Every code an operation documents: its usual status and an example of its message.
CODES: dict[str, tuple[int, str]] = {
    # Authentication (every /api/v1 operation)
    "missing_api_key": (401, "Missing Authorization header; send 'Authorization: Token <api_key>'"),
    "malformed_authorization": (401, "Malformed Authorization header; send 'Authorization: Token <api_key>'"),
    "invalid_api_key": (403, "The API key was received but rejected: it is unknown or has been revoked; "
                             "check the key, or create a new one in the dashboard"),
    # Input, shared
    "invalid_request": (400, "client_secret: Field required"),
    "invalid_cursor": (400, "cursor is not valid; pass the next_cursor of a previous page"),
    "invalid_idempotency_key": (400, "Idempotency-Key must be 1 to 255 printable ASCII characters"),
    "idempotency_key_reused": (409, "This Idempotency-Key was already used with a different request body; "
                                    "use a new key for a different request"),
    "idempotency_request_in_progress": (409, "A request with this Idempotency-Key is still being processed; "
                                             "retry in a few seconds"),
    # Zoom app
    "zoom_app_not_configured": (404, _CONNECT),
    "zoom_app_not_found": (404, "No Zoom app app_5996b94dc8c17fdba241c745 in this account"),
    "zoom_app_exists": (409, "Zoom app app_5996b94dc8c17fdba241c745 of this account already has this "
                             "client_id; change that one (PUT /api/v1/zoom/oauth/apps/"
                             "app_5996b94dc8c17fdba241c745)"),
    "too_many_zoom_apps": (409, "An account holds at most 20 Zoom apps; delete one first"),
    "zoom_app_credentials_invalid": (502, "Zoom rejected the Zoom app's client_id or client_secret; update "
                                          "them with PUT /api/v1/zoom/oauth/app"),
    # Connections
    "invalid_redirect_uri": (400, "redirect_uri must use https (plain http is allowed only for localhost and "
                                  "127.0.0.1)"),
    "invalid_state": (400, "state must be at most 2048 characters"),
    "invalid_code": (400, "code is required: the authorization code from Zoom's redirect"),
    "invalid_metadata": (400, "metadata must be a JSON object"),
    "redirect_uri_mismatch": (400, "Zoom rejected the authorization code (redirect URI does not match the "
                                   f"app's allow-list). {_REDIRECT_ADVICE}"),
    "zoom_code_rejected": (400, f"Zoom rejected the authorization code (invalid authorization code). "
                                f"{_REDIRECT_ADVICE}"),
    "missing_scopes": (400, "The Zoom app did not grant the required scopes: missing user:read:token. Add "
                            "user:read:user, user:read:token to the Zoom app's scopes and have the user "
                            "authorize again"),
    "zoom_user_not_active": (400, "Zoom user KdYKjnimT4KPd8FFgQt9FQ is pending; only active Zoom users can "
                                  "be connected"),
    "zoom_user_not_connected": (404, "Zoom user KdYKjnimT4KPd8FFgQt9FQ is not connected for this account"),
    "zoom_user_disconnected": (409, "Zoom user KdYKjnimT4KPd8FFgQt9FQ is disconnected (no valid refresh "
                                    "token)"),
    "code_exchange_in_progress": (409, "This authorization code is still being exchanged by an earlier "
                                       "request; retry in a few seconds"),
    "reconnected_other_user": (409, "This authorization is for Zoom user N9BCcAixWW6HBmA9YXnjdm, but the "
                                    "reconnect link was made for Zoom user prUV2aEeJhVEgZxWAnMyjM: nothing "
                                    "was stored and the new grant was revoked at Zoom. Have Zoom user "
                                    "prUV2aEeJhVEgZxWAnMyjM sign in, or send allow_other_user: true to "
                                    "connect Zoom user N9BCcAixWW6HBmA9YXnjdm as well"),
    "invalid_state_filter": (400, "state must be connected or disconnected"),
    "invalid_email_filter": (400, "email must be 1 to 320 characters: the start of the email addresses to "
                                  "find (case-insensitive)"),
    "invalid_zoom_account_id_filter": (400, "zoom_account_id must be 1 to 200 characters"),
    "invalid_metadata_filter": (400, "at most 5 metadata.<key>=<value> filters can be combined (got 6)"),
    "invalid_timestamp": (400, "created_after must be an RFC 3339 timestamp with an offset, e.g. "
                               "2026-12-01T15:00:00Z (in a query string, send + as %2B)"),
    "zoom_error": (502, "Zoom answered an unexpected error during exchange (HTTP 418)"),
    "zoom_unavailable": (503, "Zoom is unavailable or rate limiting us; retry later"),
    # Bots
    "bot_not_found": (404, "Bot bot_83bc7655d894727b1ec83b45 not found"),
    "invalid_status_filter": (400, "status must be one of queued, joining, waiting_for_authorizing_user, "
                                   "in_meeting, leaving, ended, failed"),
    "duplicate_bot": (409, "Bot bot_2f1c0d7a9e4b5c6d7e8f9a0b with this deduplication_key has not finished "
                           "yet; it is the bot for this request"),
    "invalid_meeting_link": (400, "meeting_link must be a URL"),
    "invalid_zoom": (400, "zoom must be a JSON object"),
    "invalid_use_zoom_obf": (400, "zoom.use_zoom_obf is invalid: it must be a JSON boolean (true or false), "
                                  "not a string"),
    "not_a_zoom_meeting_link": (400, "meeting_link must be a Zoom meeting URL: use_zoom_obf is only for Zoom "
                                     "links (not a Zoom meeting link: host meet.google.com is not a Zoom "
                                     "host)"),
    "meeting_number_required": (400, "meeting_link must include the meeting number for use_zoom_obf: "
                                     "personal links (/my/<name>) cannot be used, use the meeting's "
                                     "/j/<number> link"),
    "custom_token_url_with_hosted_auth": (400, "Do not send zoom.obf_url or zoom.zak_url with "
                                               "zoom.use_zoom_obf=true: hosted Zoom auth supplies them"),
    "zoom_oauth_connection_user_id_required": (400, "zoom.zoom_oauth_connection_user_id is required when "
                                                    "zoom.use_zoom_obf=true"),
    "invalid_zoom_oauth_connection_user_id": (400, "zoom.zoom_oauth_connection_user_id must be a string: the "
                                                   "zoom_user_id returned by POST "
                                                   "/api/v1/zoom/oauth/connections"),
    "both_connection_user_id_fields": (400, "Send zoom.zoom_oauth_connection_user_id or "
                                            "zoom.zoom_oauth_connection_user_ids, not both"),
    "invalid_zoom_oauth_connection_user_ids": (400, "zoom.zoom_oauth_connection_user_ids lists Zoom user "
                                                    "KdYKjnimT4KPd8FFgQt9FQ twice"),
    "both_token_urls": (400, "Send either zoom.obf_url or zoom.zak_url, not both"),
    "invalid_zoom_obf_url": (400, "zoom.obf_url must be an https URL"),
    "invalid_zoom_zak_url": (400, "zoom.zak_url must be an https URL"),
    "invalid_zoom_app_id": (400, "zoom.app_id must be the app_id of one of your Zoom apps "
                                 "(GET /api/v1/zoom/oauth/apps)"),
    "candidates_of_several_apps": (400, "zoom.zoom_oauth_connection_user_ids lists users of different Zoom "
                                        "apps of this account; a bot joins with one app, so list users who "
                                        "authorized the same one"),
    "zoom_app_mismatch": (400, "Zoom user KdYKjnimT4KPd8FFgQt9FQ authorized Zoom app "
                               "app_5996b94dc8c17fdba241c745, not app_8f1c2a6b0d9e4c7f3a5b1e20: a hosted-OBF "
                               "bot joins with the app its users authorized"),
    "invalid_bot_name": (400, "bot_name must be a non-empty string of at most 100 characters"),
    "invalid_callback_url": (400, "callback_url must be an https URL"),
    "invalid_custom_attributes": (400, "custom_attributes must be a JSON object"),
    "invalid_audio_required": (400, "audio_required must be a boolean (true or false)"),
    "invalid_video_required": (400, "video_required must be a boolean (true or false)"),
    "invalid_join_at": (400, "join_at must be in the future"),
    "invalid_deduplication_key": (400, "deduplication_key must be a non-empty string of at most 200 "
                                       "characters"),
    "invalid_bot_message": (400, "bot_message must be a string"),
    "invalid_bot_image_url": (400, "bot_image_url must be an https URL"),
    "invalid_live_audio_required": (400, "live_audio_required must be a JSON object"),
    "invalid_live_transcription_required": (400, "live_transcription_required must be a JSON object"),
    "invalid_recording_config": (400, "recording_config must be a JSON object"),
    "invalid_automatic_leave": (400, "automatic_leave must be a JSON object"),
    "invalid_transcription": (400, "transcription must be a JSON object"),
    "invalid_socket_connection_url": (400, "socket_connection_url must be a JSON object"),
    "invalid_video_separate_streams": (400, "video_separate_streams must be a boolean"),
    "read_only_field": (400, "status is set by obfbroker and cannot be sent"),
    "payload_too_large": (400, "the extra bot settings are 70012 bytes; at most 65536 are stored"),
    "no_zoom_users_connected": (400, "No Zoom users connected for this account"),
    # Hosted token server
    "invalid_meeting_number": (400, "meeting_number is required: the digits of the meeting the bot joins"),
    "invalid_bot_credentials": (401, "Unknown bot or wrong secret"),
    "meeting_mismatch": (403, "This meeting is not the bot's meeting"),
    "not_hosted": (403, "This bot does not use hosted Zoom auth"),
    "not_a_candidate": (403, "Zoom user KdYKjnimT4KPd8FFgQt9FQ is not one of this bot's authorizing users"),
    "bot_finished": (410, "Bot bot_83bc7655d894727b1ec83b45 has finished (ended)"),
    "bot_leave_requested": (410, "Bot bot_83bc7655d894727b1ec83b45 was asked to leave"),
    # Token links
    "token_link_not_found": (404, "No token link tl_5b8c0f2a9d1e4c7b3a6f0e21 for this account"),
    "invalid_token_types": (400, "meetingbaas links cannot mint zak (they mint onbehalf)"),
    "invalid_expires_at": (400, "expires_at must be in the future"),
    "platform_secret_required": (400, "platform_secret is required for attendee links: the Attendee "
                                      "project's webhook secret, which signs its calls"),
    "invalid_platform_secret": (400, "platform_secret is for attendee links only (recall calls are not "
                                     "signed)"),
    "invalid_link_credentials": (401, "Unknown token link or wrong key"),
    "invalid_signature": (401, "X-Webhook-Signature does not match the body signed with the link's "
                               "platform_secret"),
    "token_link_url_not_found": (404, "This token link has no zak URL"),
    "method_not_allowed": (405, "attendee links are called with POST"),
    "token_link_revoked": (410, "This token link was revoked; create a new one"),
    "token_link_expired": (410, "This token link has expired; create a new one"),
    "token_link_used_up": (410, "This token link has used all its max_uses; create a new one"),
    "token_link_rate_limited": (429, "This token link answers at most 30 calls a minute; retry in 12 s"),
    "not_meeting_host": (409, "This Zoom user does not host the meeting: only the host's grant mints its "
                              "local-recording join token"),
    # Webhooks
    "invalid_webhook_url": (400, "url must not lead to a private address (10/8, 172.16/12, 192.168/16, "
                                 "fc00::/7): obfbroker only connects to public addresses"),
    "webhook_not_configured": (404, "No webhook endpoint is configured for this account; set one with PUT "
                                    "/api/v1/webhooks"),
    "webhook_message_not_found": (404, "No webhook message msg_eee67564663fe271595d4729 for this account"),
    "invalid_zoom_signature": (401, "Zoom webhook refused: signature does not match"),
    "invalid_zoom_event": (400, "webhook body is not JSON"),
}
AUTH_CODES = ("missing_api_key", "malformed_authorization", "invalid_api_key")
# The codes create_bot's checks answer (bots/validation.py, bots/service.py), in their order.
CREATE_BOT_CODES = (
    "invalid_idempotency_key", "invalid_request", "invalid_meeting_link", "invalid_zoom",
    "invalid_use_zoom_obf", "not_a_zoom_meeting_link", "meeting_number_required",
    "custom_token_url_with_hosted_auth", "zoom_oauth_connection_user_id_required",
    "invalid_zoom_oauth_connection_user_id", "both_connection_user_id_fields",
    "invalid_zoom_oauth_connection_user_ids", "both_token_urls", "invalid_zoom_obf_url",
    "invalid_zoom_zak_url", "invalid_zoom_app_id",
    "invalid_bot_name", "invalid_callback_url", "invalid_custom_attributes", "invalid_audio_required",
    "invalid_video_required", "invalid_join_at", "invalid_deduplication_key", "invalid_bot_message",
    "invalid_bot_image_url", "invalid_live_audio_required", "invalid_live_transcription_required",
    "invalid_recording_config", "invalid_automatic_leave", "invalid_transcription",
    "invalid_socket_connection_url", "invalid_video_separate_streams", "read_only_field", "payload_too_large",
    "no_zoom_users_connected", "zoom_app_not_configured", "zoom_user_not_connected", "zoom_user_disconnected",
    "candidates_of_several_apps", "zoom_app_not_found", "zoom_app_mismatch",
    "duplicate_bot", "idempotency_key_reused", "idempotency_request_in_progress")
# What the hosted token endpoints answer (bots/token_server.py), after their own checks.
TOKEN_CODES = ("invalid_meeting_number", "invalid_bot_credentials", "meeting_mismatch", "not_hosted",
               "not_a_candidate", "zoom_user_disconnected", "missing_scopes", "zoom_app_not_configured",
               "bot_finished", "bot_leave_requested", "zoom_app_credentials_invalid", "zoom_error",
               "zoom_unavailable")
TOKEN_STATUSES = {"missing_scopes": 409, "zoom_app_not_configured": 409}
# What the URL rules (urls.py) hold every URL to, as JSON Schema patterns: an http(s) scheme in
# any case, "//", a non-empty authority, and no space or control character; https_url without a
# fragment (redirect URIs). The rest (https except to this machine, no credentials, a valid port)
# is beyond a pattern: answered 400 with its code, and said in the descriptions.
URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f/?#]+(?:[/?#][^\x00-\x20\x7f]*)?$"
URL_WITHOUT_FRAGMENT = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f/?#]+(?:[/?][^\x00-\x20\x7f#]*)?$"
# Whitespace as Python's str.isspace and pydantic's (Rust) regex see it, spelled out: JSON Schema's
# \s (ECMA 262) is another set.
PY_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
RUST_SPACE = r"\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = f"[^{PY_SPACE}]"  # what str.strip() leaves something of
NO_WHITESPACE = f"^[^{RUST_SPACE}]+$"  # pydantic's pattern ^\S+$
# Marks a parameter or property the code requires with its own message (not FastAPI's): `finish`
# turns it into `required` in the document.
REQUIRED_BY_CODE = "x-required-by-code"
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying",
                               "schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True}}


def error_responses(*codes: str, status: dict[str, int] | None = None, messages: dict[str, str] | None = None,
                    auth: bool = True) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses`` documenting ``codes`` (plus the API key's with ``auth``), grouped by
    status: each its Error body with ``code`` limited to those codes, one example per code.
    ``status`` and ``messages`` override a code's usual status and example for this operation."""
    grouped: dict[int, list[str]] = {}
    for code in (*codes, *(AUTH_CODES if auth else ())):
        grouped.setdefault((status or {}).get(code, CODES[code][0]), []).append(code)
    examples = {code: (messages or {}).get(code, CODES[code][1]) for code in CODES}
    return {number: _error_response(number, names, examples) for number, names in sorted(grouped.items())}


def _error_response(number: int, codes: list[str], messages: dict[str, str]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": f"{HTTPStatus(number).phrase}: " + ", ".join(f"`{code}`" for code in codes),
        "content": {"application/json": {
            "schema": {"allOf": [{"$ref": ERROR_REF}], "properties": {"code": {"enum": codes}}},
            "examples": {code: {"summary": code, "value": error_body(messages[code], code)}
                         for code in codes},
        }},
    }
    if number in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def json_response(example: Any, *, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A documented JSON answer with an example (and a schema, for answers without a model)."""
    content: dict[str, Any] = {"example": example}
    if schema is not None:
        content["schema"] = schema
    return {"description": description, "content": {"application/json": content}}


def url_schema(pattern: str = URL, **extra: Any) -> dict[str, Any]:
    """``json_schema_extra`` of a URL the code checks itself (its messages, not pydantic's). No
    ``format: uri``: the URL rules take characters RFC 3986 doesn't (a bare ``%``, ``|``), which
    that format would declare refused."""
    return {"minLength": 1, "maxLength": 2048, "pattern": pattern, **extra}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An ``X | None`` schema as X: a query parameter or header is absent, never null."""
    variants = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(variants) != 1 or len(schema.get("anyOf", ())) != 2:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**variants[0], **rest}


def _required_by_code(schema: dict[str, Any]) -> None:
    """A property marked REQUIRED_BY_CODE is required, and null is refused too."""
    properties = schema.get("properties", {})
    for name, prop in list(properties.items()):
        if prop.pop(REQUIRED_BY_CODE, False):
            properties[name] = _not_null(prop)
            if name not in schema.setdefault("required", []):
                schema["required"].append(name)


def _health(status: str, description: str) -> dict[str, Any]:
    schema = {"type": "object", "required": ["status"],
              "properties": {"status": {"type": "string", "enum": [status]}}}
    return json_response({"status": status}, description=description, schema=schema)


# health.py's operations, described here with the rest of the document's finishing touches.
HEALTH = {
    "/healthz": {"description": "Liveness: 200 whenever the process serves requests; the database is not "
                                "touched. No API key.",
                 "responses": {"200": _health("ok", "The process is up")}},
    "/readyz": {"description": "Readiness: runs a trivial query against the database. No API key. Answers "
                               "503 {\"status\": \"unavailable\"} (this body, not the Error body) when the "
                               "database cannot be reached.",
                "responses": {"200": _health("ok", "The database answers"),
                              "503": _health("unavailable", "The database does not answer")}},
}


GUARD_REFUSAL = "The query parameter meeting_number is given more than once; send it once"


def _add_guard_refusal(operation: dict[str, Any]) -> None:
    """request_guard.py answers any operation 400 invalid_request before it runs (a repeated
    parameter or credential header, a lone surrogate in a JSON body): say so on each one."""
    responses = operation.setdefault("responses", {})
    if "400" not in responses:
        responses["400"] = _error_response(400, ["invalid_request"], {"invalid_request": GUARD_REFUSAL})
        return
    content = responses["400"]["content"]["application/json"]
    codes = content["schema"]["properties"]["code"]["enum"]
    if "invalid_request" not in codes:
        codes.append("invalid_request")
        content["examples"]["invalid_request"] = {"summary": "invalid_request",
                                                  "value": error_body(GUARD_REFUSAL, "invalid_request")}
        responses["400"]["description"] += ", `invalid_request`"


def finish(spec: dict[str, Any]) -> dict[str, Any]:
    """Make FastAPI's document say what the API answers: 400 (Error), never 422."""
    for path, extra in HEALTH.items():
        if "get" in spec.get("paths", {}).get(path, {}):
            spec["paths"][path]["get"].update(extra)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Error"] = ErrorRead.model_json_schema()
    for schema in schemas.values():
        _required_by_code(schema)
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            operation.get("responses", {}).pop("422", None)
            _add_guard_refusal(operation)
            if "requestBody" in operation:  # request_guard.py refuses larger bodies before any route runs
                operation["responses"].setdefault("413", _error_response(
                    413, ["payload_too_large"], {"payload_too_large": "Request body too large: at most "
                                                                      "1048576 bytes"}))
            for parameter in operation.get("parameters", ()):
                parameter["schema"] = _not_null(parameter.get("schema", {}))
                if parameter["schema"].pop(REQUIRED_BY_CODE, False):
                    parameter["required"] = True
    return spec


def install(app: FastAPI, *, path_order: Sequence[str] = ()) -> None:
    """Serve the finished document at /openapi.json (built once, on first use), its paths in
    ``path_order`` (the order routes are matched in is the app's business, not the reader's)."""
    build = app.openapi
    rank = {path: i for i, path in reversed(list(enumerate(path_order)))}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = finish(build())  # build() caches FastAPI's document in app.openapi_schema
            paths = spec.get("paths", {})
            spec["paths"] = dict(sorted(paths.items(), key=lambda item: rank.get(item[0], len(rank))))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
