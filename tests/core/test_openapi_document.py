"""/openapi.json documents what the API answers: 400 with the Error body (never 422), the codes
each operation can answer, a summary and a description everywhere, enums and formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from obfbroker.bots.models import BotStatus
from obfbroker.bots.validation import MEETSTREAM_FIELDS
from tests.support.stack import Stack

SOURCE = Path(__file__).resolve().parents[2] / "src" / "obfbroker"
ERROR_REF = "#/components/schemas/Error"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
MEETSTREAM = {"Joining", "InWaitingRoom", "InMeeting", "Recording", "Leaving", "Stopped", "NotAllowed",
              "Denied", "Error", "Done"}


@pytest.fixture
def spec(stack: Stack) -> dict:
    with stack.client() as client:
        return client.get("/openapi.json").json()


def operations(spec: dict):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def error_codes(response: dict) -> list[str] | None:
    """The codes an error response documents, or None if it is not the Error schema."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if {"$ref": ERROR_REF} not in schema.get("allOf", ()):
        return None
    return schema["properties"]["code"]["enum"]


def prop(spec: dict, model: str, name: str) -> dict:
    schema = spec["components"]["schemas"][model]["properties"][name]
    return next((s for s in schema.get("anyOf", ()) if s.get("type") != "null"), schema)


def enum_of(spec: dict, schema: dict) -> set[str]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema["enum"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_422_and_no_validation_error_schemas(spec):
    text = json.dumps(spec)
    assert "HTTPValidationError" not in text and '"ValidationError"' not in text
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])
    for name, operation in operations(spec):
        assert "422" not in operation["responses"], name
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code", "message"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_is_described_and_documents_its_errors(spec):
    for name, operation in operations(spec):
        assert operation.get("summary") and operation.get("description"), name
        responses = operation["responses"]
        takes_input = "requestBody" in operation or any(
            p["in"] in ("query", "header") for p in operation.get("parameters", ()))
        if takes_input:
            assert error_codes(responses["400"]), f"{name}: no 400 with the Error schema"
        if operation.get("security"):
            assert {"missing_api_key", "malformed_authorization"} <= set(error_codes(responses["401"])), name
            assert "invalid_api_key" in error_codes(responses["403"]), name
        for status, response in responses.items():
            if status[0] in "45" and name != "GET /readyz":  # its 503 is {"status": "unavailable"}
                codes = error_codes(response)
                assert codes, f"{name} {status}: not the Error schema"
                examples = response["content"]["application/json"]["examples"]
                assert set(examples) == set(codes), f"{name} {status}: one example per code"
                for example in examples.values():
                    assert example["value"]["detail"] == example["value"]["message"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_documented_code_is_one_the_code_answers(spec):
    source = "\n".join(p.read_text() for p in SOURCE.rglob("*.py") if p.name != "openapi.py")
    documented = {code for _, operation in operations(spec) for response in operation["responses"].values()
                  for code in error_codes(response) or ()}
    # create_bot's codes made from a field's name: invalid_<name> (bots/validation.py).
    names = re.findall(r'_(?:https|outbound)_url\([^,]+, "([\w.]+)"[,)]|_boolean\(body, "(\w+)"', source)
    made = {f"invalid_{name.replace('.', '_')}" for pair in names for name in pair if name}
    made |= {f"invalid_{name}" for name in MEETSTREAM_FIELDS}
    unknown = sorted(code for code in documented - made if f'"{code}"' not in source)
    assert not unknown, f"documented codes the code never answers: {unknown}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_closed_vocabularies_are_enums_and_times_are_date_time(spec):
    assert enum_of(spec, prop(spec, "ConnectionRead", "state")) == {"connected", "disconnected"}
    assert enum_of(spec, prop(spec, "BotRead", "status")) == {s.value for s in BotStatus}
    assert enum_of(spec, prop(spec, "BotRead", "bot_status")) == MEETSTREAM
    assert enum_of(spec, prop(spec, "BotStatusRead", "bot_status")) == MEETSTREAM
    assert enum_of(spec, prop(spec, "ConnectionDetail", "disconnected_reason")) == {
        "refresh_token_invalid", "app_deauthorized", "deleted_at_zoom"}
    assert enum_of(spec, prop(spec, "WebhookDeliveryRead", "message_status")) == {
        "pending", "delivered", "failed"}
    parameters = {(path, p["name"]): p for path, methods in spec["paths"].items()
                  for operation in methods.values() for p in operation.get("parameters", ())}
    assert set(parameters["/api/v1/zoom/oauth/connections", "state"]["schema"]["enum"]) == {
        "connected", "disconnected"}
    assert set(parameters["/api/v1/bots", "status"]["schema"]["enum"]) == {s.value for s in BotStatus}
    for model, name in [("ConnectionRead", "created_at"), ("ConnectionDetail", "last_refreshed_at"),
                        ("BotRead", "created_at"), ("ReconnectUrl", "expires_at"),
                        ("WebhookDeliveryRead", "attempted_at")]:
        assert prop(spec, model, name)["format"] == "date-time", (model, name)
    for model, name in [("ZoomAppRead", "webhook_url"), ("AuthorizeUrl", "authorize_url")]:
        assert prop(spec, model, name)["format"] == "uri", (model, name)
