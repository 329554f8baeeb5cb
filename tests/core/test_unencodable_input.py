"""A lone UTF-16 surrogate ("\\ud800") in any JSON string of any operation, key or value, is
refused with 400 invalid_request before anything else runs, and changes nothing; the same
places with a valid pair (an emoji) never answer 5xx either.

The operations and their string fields are read from the OpenAPI document, so an operation
added later is swept too."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.bot_scenes import new_meeting
from tests.support.customers import make_customer
from tests.support.stack import Stack

LONE = "\ud800"
PAIR = "\U0001F600"
METHODS = ("get", "put", "post", "patch", "delete")


def resolve(spec: dict[str, Any], schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):  # true / false (a property that must not be sent)
        return {}
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve(spec, {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}})
    return schema


def _types(spec: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = resolve(spec, schema)
    kinds = schema.get("type", [])
    found = set(kinds if isinstance(kinds, list) else [kinds])
    for variant in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= _types(spec, variant)
    return found


def _object_variant(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    schema = resolve(spec, schema)
    if "properties" in schema or schema.get("additionalProperties") not in (None, False):
        return schema
    for variant in schema.get("anyOf", []) + schema.get("oneOf", []):
        found = _object_variant(spec, variant)
        if found is not None:
            return found
    return None


def string_places(spec: dict[str, Any], schema: dict[str, Any], at: tuple = (), depth: int = 0,
                  ) -> Iterator[tuple[tuple, bool]]:
    """(path, is_key) of every string a body of ``schema`` can hold: named properties, the values
    and keys of free-form objects (metadata), and an unknown key at every object level."""
    shape = _object_variant(spec, schema)
    if shape is None or depth > 3:
        return
    yield (*at, "unknown_field"), True
    for name, prop in shape.get("properties", {}).items():
        if "string" in _types(spec, prop):
            yield (*at, name), False
        if _object_variant(spec, prop) is not None:
            yield from string_places(spec, prop, (*at, name), depth + 1)
    if shape.get("additionalProperties") not in (None, False):
        yield (*at, "free_form_key"), False


def put_text(body: Any, path: tuple, text: str, is_key: bool) -> Any:
    """A copy of ``body`` with ``text`` at ``path`` (as the key of the last step when ``is_key``)."""
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    node = body
    for step in path[:-1]:
        if not isinstance(node.get(step), dict):
            node[step] = {}
        node = node[step]
    if is_key:
        node[f"{text}{path[-1]}"] = "value"
    else:
        node[path[-1]] = text
    return body


def example_body(operation: dict[str, Any]) -> Any:
    content = operation["requestBody"]["content"].get("application/json", {})
    if "example" in content:
        return content["example"]
    for example in content.get("examples", {}).values():
        return example.get("value")
    return content.get("schema", {}).get("examples", [None])[0]


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def fill_path(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def send(client: httpx.Client, method: str, url: str, body: Any) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \ud800 (httpx's json= would fail to encode it).
    return client.request(method, url, content=json.dumps(body), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_every_string_of_every_operation_refuses_a_lone_surrogate(stack: Stack):
    customer = make_customer(stack)
    alice = stack.sim.create_user("Alice")
    assert customer.connect(alice["id"], metadata={"team": "a"}).status_code == 200
    meeting = new_meeting(stack, alice["id"])
    bot = customer.api.post("/api/v1/bots/create_bot", json={
        "meeting_link": meeting.join_url,
        "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": alice["id"]}}).json()
    values = {"zoom_user_id": alice["id"], "bot_id": bot["bot_id"], "message_id": "msg_0",
              "app_id": "app_0"}
    spec = customer.api.get("/openapi.json").json()
    cases = []
    for method, path, operation in operations(spec):
        if "requestBody" not in operation:
            continue
        schema = operation["requestBody"]["content"].get("application/json", {}).get("schema", {})
        base = example_body(operation)
        for place, is_key in string_places(spec, schema):
            cases.append((method, path, fill_path(path, values), base, place, is_key))
    assert len(cases) >= 40, f"only {len(cases)} places found: is the document still read right?"
    failures = []
    for method, path, url, base, place, is_key in cases:
        refused = send(customer.api, method, url, put_text(base, place, LONE, is_key))
        if refused.status_code != 400 or refused.json().get("code") != "invalid_request":
            failures.append((method, path, place, refused.status_code, refused.text[:200]))
    assert not failures, failures
    # Nothing changed: the connection's metadata and the account's bots are as they were.
    connection = customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()
    assert connection["metadata"] == {"team": "a"}
    assert [b["bot_id"] for b in customer.api.get("/api/v1/bots").json()["bots"]] == [bot["bot_id"]]
    for method, path, url, base, place, is_key in cases:
        valid = send(customer.api, method, url, put_text(base, place, PAIR, is_key))
        if valid.status_code >= 500 or "json" not in valid.headers.get("content-type", ""):
            failures.append((method, path, place, valid.status_code, valid.text[:200]))
    assert not failures, failures


def test_the_places_named_in_the_report_are_refused_before_anything_else(stack: Stack):
    """The eleven places found by hand, the token POST without any credentials among them: the
    refusal comes before authentication, lookup and storage."""
    customer = make_customer(stack)
    alice = stack.sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    meeting = new_meeting(stack, alice["id"])
    hosted = {"use_zoom_obf": True, "zoom_oauth_connection_user_id": alice["id"]}
    anonymous = stack.client()
    cases = [
        (anonymous, "POST", "/token-server/zoom/obf", {"bot_id": LONE, "meeting_number": "1",
                                                       "webhook_secret": "x"}),
        (customer.api, "POST", "/api/v1/zoom/oauth/connections", {"code": LONE, "redirect_uri": "https://a.b/"}),
        (customer.api, "POST", "/api/v1/zoom/oauth/connections", {"code": "c", "redirect_uri": "https://a.b/",
                                                                  "metadata": {"k": LONE}}),
        (customer.api, "PATCH", f"/api/v1/zoom/oauth/connections/{alice['id']}", {"metadata": {"k": LONE}}),
        (customer.api, "PATCH", f"/api/v1/zoom/oauth/connections/{alice['id']}", {"metadata": {LONE: "v"}}),
        (customer.api, "POST", "/api/v1/zoom/oauth/connections", {"code": "c", "redirect_uri": "https://a.b/",
                                                                  "state": LONE}),
        (customer.api, "POST", "/api/v1/bots/create_bot", {"meeting_link": meeting.join_url, "bot_name": LONE,
                                                           "zoom": hosted}),
        (customer.api, "POST", "/api/v1/bots/create_bot", {"meeting_link": meeting.join_url, "zoom": {
            "use_zoom_obf": True, "zoom_oauth_connection_user_id": LONE}}),
        (customer.api, "POST", "/api/v1/bots/create_bot", {"meeting_link": meeting.join_url, "zoom": hosted,
                                                           "deduplication_key": LONE}),
        (customer.api, "POST", "/api/v1/bots/create_bot", {"meeting_link": meeting.join_url, "zoom": hosted,
                                                           LONE: 1}),
        (customer.api, "PUT", "/api/v1/webhooks", {"url": f"https://hooks.example.com/{LONE}"}),
    ]
    for client, method, path, body in cases:
        response = send(client, method, path, body)
        assert response.status_code == 400, (path, body.keys(), response.status_code, response.text)
        assert response.json()["code"] == "invalid_request"
        assert "surrogate" in response.json()["detail"]
    assert customer.api.get("/api/v1/bots").json()["bots"] == []
    assert customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()["metadata"] == {}
    assert customer.api.get("/api/v1/webhooks").status_code == 404
    # The same bodies encoded as UTF-16 JSON are refused alike.
    body = json.dumps({"bot_id": LONE, "meeting_number": "1", "webhook_secret": "x"}).encode("utf-16")
    response = anonymous.post("/token-server/zoom/obf", content=body,
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"
    anonymous.close()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_undecodable_path_and_query_parameters_never_answer_5xx(stack: Stack):
    """A surrogate's UTF-8 form (%ED%A0%80), a lone byte (%FF) or NUL (%00) in every path and
    query parameter: whatever each operation answers, it is JSON and never a 5xx."""
    customer = make_customer(stack)
    spec = customer.api.get("/openapi.json").json()
    failures, sent = [], 0
    for method, path, operation in operations(spec):
        parameters = [p for p in operation.get("parameters", ()) if p["in"] in ("path", "query")]
        for parameter in parameters:
            for raw in ("%ED%A0%80", "%FF", "x%00y"):
                values = {p["name"]: "x" for p in parameters if p["in"] == "path"}
                query = ""
                if parameter["in"] == "path":
                    values[parameter["name"]] = raw
                else:
                    query = f"?{parameter['name']}={raw}"
                response = customer.api.request(method, fill_path(path, values) + query)
                sent += 1
                if response.status_code >= 500 or "json" not in response.headers.get("content-type", ""):
                    failures.append((method, path, parameter["name"], raw, response.status_code))
    assert sent >= 60, sent
    assert not failures, failures
