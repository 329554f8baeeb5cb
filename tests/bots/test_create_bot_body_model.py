"""create_bot's body is one pydantic model, BotCreate (bots/validation.py): it answers each rule
with the guide's message and its code, the first problem first (in the order a customer fixes
them), and it is the request schema /openapi.json documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.encoders import jsonable_encoder
from pydantic import ValidationError

from obfbroker.bots.validation import (
    KNOWN,
    MAX_EXTRA_BYTES,
    MEETSTREAM_FIELDS,
    READ_ONLY,
    BotCreate,
    parse_bot_request,
    request_schema,
)
from obfbroker.errors import BadRequest
from obfbroker.openapi import NOT_BLANK, url_schema
from obfbroker.outbound import OutboundPolicy
from tests.support.bot_scenes import CREATE, Scene
from tests.support.errors import assert_error
from tests.support.stack import Stack

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LINK = "https://zoom.us/j/123456789?pwd=x"
GOOGLE = "https://meet.google.com/abc-defg-hij"
HOSTED = {"use_zoom_obf": True, "zoom_oauth_connection_user_id": "alice"}
HINT = "the zoom_user_id returned by POST /api/v1/zoom/oauth/connections"
NOT_ZOOM = "(not a Zoom meeting link: host meet.google.com is not a Zoom host)"
PRIVATE = "must not lead to a private address (10/8, 172.16/12, 192.168/16, fc00::/7): obfbroker only " \
          "connects to public addresses"


def problem(body: Any) -> tuple[str, str]:
    """The (code, message) create_bot answers ``body`` with."""
    with pytest.raises(BadRequest) as refused:
        parse_bot_request(body, outbound=OutboundPolicy(), now=NOW)
    return refused.value.code, refused.value.detail


def with_link(**fields: Any) -> dict[str, Any]:
    return {"meeting_link": LINK, **fields}


# Every code the body's rules answer, with today's message word for word.
MESSAGES: list[tuple[Any, str, str]] = [
    (["x"], "invalid_request", "The request body must be a JSON object"),
    ({}, "invalid_meeting_link", "meeting_link is required"),
    ({"meeting_link": ""}, "invalid_meeting_link", "meeting_link is required"),
    ({"meeting_link": 42}, "invalid_meeting_link", "meeting_link must be a URL"),
    (with_link(zoom="yes"), "invalid_zoom", "zoom must be a JSON object"),
    (with_link(zoom={"use_zoom_obf": "true"}), "invalid_use_zoom_obf",
     "zoom.use_zoom_obf is invalid: it must be a JSON boolean (true or false), not a string"),
    ({"meeting_link": GOOGLE, "zoom": HOSTED}, "not_a_zoom_meeting_link",
     f"meeting_link must be a Zoom meeting URL: use_zoom_obf is only for Zoom links {NOT_ZOOM}"),
    ({"meeting_link": "https://zoom.us/my/alice.example", "zoom": HOSTED}, "meeting_number_required",
     "meeting_link must include the meeting number for use_zoom_obf: personal links (/my/<name>) cannot be "
     "used, use the meeting's /j/<number> link"),
    (with_link(zoom={**HOSTED, "zak_url": "x"}), "custom_token_url_with_hosted_auth",
     "Do not send zoom.obf_url or zoom.zak_url with zoom.use_zoom_obf=true: hosted Zoom auth supplies them"),
    (with_link(zoom={**HOSTED, "zoom_oauth_connection_user_ids": ["a"]}), "both_connection_user_id_fields",
     "Send zoom.zoom_oauth_connection_user_id or zoom.zoom_oauth_connection_user_ids, not both"),
    (with_link(zoom={"use_zoom_obf": True}), "zoom_oauth_connection_user_id_required",
     "zoom.zoom_oauth_connection_user_id is required when zoom.use_zoom_obf=true"),
    (with_link(zoom={"use_zoom_obf": True, "zoom_oauth_connection_user_id": 7}),
     "invalid_zoom_oauth_connection_user_id", f"zoom.zoom_oauth_connection_user_id must be a string: {HINT}"),
    (with_link(zoom={"use_zoom_obf": True, "zoom_oauth_connection_user_ids": []}),
     "invalid_zoom_oauth_connection_user_ids", f"zoom.zoom_oauth_connection_user_ids must be an array of 1 "
     f"to 10 Zoom user ids ({HINT}), in the order the bot should try them"),
    (with_link(zoom={"use_zoom_obf": True, "zoom_oauth_connection_user_ids": ["a", 7]}),
     "invalid_zoom_oauth_connection_user_ids",
     f"zoom.zoom_oauth_connection_user_ids[1] must be a non-empty string: {HINT}"),
    (with_link(zoom={"use_zoom_obf": True, "zoom_oauth_connection_user_ids": ["{a}", "{a}"]}),
     "invalid_zoom_oauth_connection_user_ids",
     "zoom.zoom_oauth_connection_user_ids lists Zoom user {a} twice"),
    (with_link(zoom={"obf_url": "https://a.example.com/o", "zak_url": "https://a.example.com/z"}),
     "both_token_urls", "Send either zoom.obf_url or zoom.zak_url, not both"),
    (with_link(zoom={"obf_url": "http://a.example.com/o"}), "invalid_zoom_obf_url",
     "zoom.obf_url must be an https URL"),
    (with_link(zoom={"obf_url": "https://10.0.0.1/o"}), "invalid_zoom_obf_url", f"zoom.obf_url {PRIVATE}"),
    (with_link(zoom={"zak_url": "https://localhost/z"}), "invalid_zoom_zak_url",
     "zoom.zak_url must not lead to a loopback address (127.0.0.0/8, ::1): this machine: obfbroker only "
     "connects to public addresses"),
    ({"meeting_link": GOOGLE, "zoom": {"zak_url": "https://a.example.com/z"}}, "not_a_zoom_meeting_link",
     f"meeting_link must be a Zoom meeting URL to use a Zoom token server {NOT_ZOOM}"),
    (with_link(bot_name=" "), "invalid_bot_name",
     "bot_name must be a non-empty string of at most 100 characters"),
    (with_link(callback_url="http://hooks.example.com/cb"), "invalid_callback_url",
     "callback_url must be an https URL"),
    (with_link(callback_url="https://192.168.1.1/cb"), "invalid_callback_url", f"callback_url {PRIVATE}"),
    (with_link(custom_attributes="x"), "invalid_custom_attributes",
     "custom_attributes must be a JSON object"),
    (with_link(audio_required="yes"), "invalid_audio_required",
     "audio_required must be a boolean (true or false)"),
    (with_link(video_required=None), "invalid_video_required",
     "video_required must be a boolean (true or false)"),
    (with_link(join_at="2099-01-01T00:00:00"), "invalid_join_at",
     "join_at must be an ISO 8601 timestamp with a timezone, e.g. 2026-12-01T15:00:00Z"),
    (with_link(join_at="2020-01-01T00:00:00Z"), "invalid_join_at", "join_at must be in the future"),
    (with_link(deduplication_key=" "), "invalid_deduplication_key",
     "deduplication_key must be a non-empty string of at most 200 characters"),
    (with_link(bot_id="bot_x"), "read_only_field", "bot_id is set by obfbroker and cannot be sent"),
    *((with_link(**{name: 5}), f"invalid_{name}", f"{name} must be " + (
        "a string" if kind is str else "a JSON object" if kind is dict else "a boolean"))
      for name, kind in MEETSTREAM_FIELDS.items()),
    (with_link(bot_image_url="http://img.example.com/a.png"), "invalid_bot_image_url",
     "bot_image_url must be an https URL"),
    (with_link(automatic_leave={"everyone_left_timeout": True}), "invalid_automatic_leave",
     "automatic_leave.everyone_left_timeout must be a non-negative number of seconds"),
    (with_link(bot_message="x" * 70000), "payload_too_large",
     "the extra bot settings are 70018 bytes; at most 65536 are stored"),
]


@pytest.mark.parametrize(("body", "code", "message"), MESSAGES,
                         ids=[f"{code}-{i}" for i, (_, code, _) in enumerate(MESSAGES)])
def test_each_rule_answers_its_code_and_message_word_for_word(body, code, message):
    assert problem(body) == (code, message)


# A body breaking every rule at once, fixed one rule at a time (code answered, field, broken value,
# fixed value, None to remove it): the code answered each time is the next rule in today's order.
# The fields obfbroker acts on are sent in the reverse order, after the extra fields: their order
# is not what decides. The extra fields are checked after them all, in the order they were sent.
IDS = "zoom_oauth_connection_user_ids"
HOSTED_LADDER = [
    ("invalid_meeting_link", "meeting_link", "not a url", "https://zoom.us/my/alice"),
    ("invalid_use_zoom_obf", "zoom", {"use_zoom_obf": "true", "zak_url": 5, IDS: []},
     {"use_zoom_obf": True, "zak_url": 5, IDS: []}),
    ("meeting_number_required", "meeting_link", "https://zoom.us/my/alice", LINK),
    ("custom_token_url_with_hosted_auth", "zoom", {"use_zoom_obf": True, "zak_url": 5, IDS: []},
     {"use_zoom_obf": True, IDS: []}),
    ("invalid_zoom_oauth_connection_user_ids", "zoom", {"use_zoom_obf": True, IDS: []},
     {"use_zoom_obf": True, IDS: ["alice", "bob"]}),
    ("invalid_bot_name", "bot_name", "", "Notes"),
    ("invalid_callback_url", "callback_url", "ftp://hooks.example.com", "https://hooks.example.com/b"),
    ("invalid_custom_attributes", "custom_attributes", [1], {"crm": 1}),
    ("invalid_audio_required", "audio_required", "yes", True),
    ("invalid_video_required", "video_required", "no", False),
    ("invalid_join_at", "join_at", "tomorrow", "2099-01-01T00:00:00Z"),
    ("invalid_deduplication_key", "deduplication_key", "", "deal-7"),
    ("invalid_recording_config", "recording_config", "all", {"all": True}),
    ("read_only_field", "status", "in_meeting", None),
    ("invalid_bot_message", "bot_message", 5, "hello"),
    ("invalid_bot_image_url", "bot_image_url", "ftp://img.example.com/a.png", "https://img.example.com/i"),
    ("invalid_automatic_leave", "automatic_leave", {"waiting_room_timeout": -1}, {"waiting_room_timeout": 6}),
    ("payload_too_large", "padding", "x" * 70000, "x"),
]
TOKEN_SERVER_LADDER = [
    ("invalid_meeting_link", "meeting_link", None, GOOGLE),
    ("invalid_zoom", "zoom", ["obf_url"], {"obf_url": "x", "zak_url": "y"}),
    ("both_token_urls", "zoom", {"obf_url": "x", "zak_url": "y"}, {"obf_url": "http://tokens.example.com/o"}),
    ("invalid_zoom_obf_url", "zoom", {"obf_url": "http://tokens.example.com/o"},
     {"obf_url": "https://tokens.example.com/o"}),
    ("not_a_zoom_meeting_link", "meeting_link", GOOGLE, LINK),
    ("invalid_bot_name", "bot_name", "x" * 101, "Notes"),
]


def climb(ladder: list[tuple[str, str, Any, Any]]) -> list[str]:
    """The codes answered while fixing the ladder's body step by step."""
    first: dict[str, Any] = {}
    for _, name, broken, _ in ladder:
        first.setdefault(name, broken)
    known = [name for name in first if name in KNOWN]
    body = {name: value for name, value in first.items() if name not in KNOWN}
    body.update((name, first[name]) for name in reversed(known))
    answered = []
    for _, name, broken, fixed in ladder:
        assert body[name] == broken, f"{name} is broken by an earlier step already"
        answered.append(problem(body)[0])
        if fixed is None:
            del body[name]
        else:
            body[name] = fixed
    parse_bot_request(body, outbound=OutboundPolicy(), now=NOW)  # nothing left to fix
    return answered


@pytest.mark.parametrize("ladder", [HOSTED_LADDER, TOKEN_SERVER_LADDER], ids=["hosted", "token_server"])
def test_the_first_problem_in_todays_order_is_answered(ladder):
    assert climb(ladder) == [code for code, *_ in ladder]


def test_the_model_reports_every_field_and_the_first_one_wins():
    body = {"deduplication_key": "", "video_required": 0, "bot_name": "", "zoom": "yes", "meeting_link": 5}
    with pytest.raises(ValidationError) as reported:
        BotCreate.model_validate(body, context={"outbound": OutboundPolicy(), "now": NOW})
    assert [(error["loc"], error["type"]) for error in reported.value.errors()] == [
        (("meeting_link",), "invalid_meeting_link"), (("zoom",), "invalid_zoom"),
        (("bot_name",), "invalid_bot_name"), (("video_required",), "invalid_video_required"),
        (("deduplication_key",), "invalid_deduplication_key")]
    assert problem(body) == ("invalid_meeting_link", "meeting_link must be a URL")


def test_extra_fields_are_checked_in_the_order_sent_after_every_other_field():
    assert problem(with_link(bot_message=5, status="x"))[0] == "invalid_bot_message"
    assert problem(with_link(status="x", bot_message=5))[0] == "read_only_field"
    # Every extra field's type before the image URL and the timeouts, the size last.
    assert problem(with_link(bot_image_url="ftp://x", recording_config=1))[0] == "invalid_recording_config"
    assert problem(with_link(automatic_leave={"a": -1}, bot_image_url="ftp://x"))[0] == \
        "invalid_bot_image_url"
    assert problem(with_link(status="x", bot_name=""))[0] == "invalid_bot_name"


def test_unknown_fields_are_kept_in_the_order_sent():
    parsed = parse_bot_request(with_link(zeta={"a": 1}, bot_message="hi", alpha=None, settings=[1]),
                               outbound=OutboundPolicy(), now=NOW)
    assert list(parsed.settings.items()) == [("zeta", {"a": 1}), ("bot_message", "hi"), ("alpha", None),
                                             ("settings", [1])]
    assert parsed.zoom == {"use_zoom_obf": False} and parsed.bot_name == "obfbroker bot"


def test_the_model_declares_the_fields_the_rules_know():
    assert set(BotCreate.model_fields) == KNOWN | set(MEETSTREAM_FIELDS)
    properties = request_schema()["properties"]
    names = {str: "string", dict: "object", bool: "boolean"}
    for name, kind in MEETSTREAM_FIELDS.items():
        assert properties[name]["anyOf"][0]["type"] == names[kind], name  # type: ignore[index]
        assert properties[name]["anyOf"][1] == {"type": "null"}, name


def test_the_schema_says_what_the_rules_hold():
    schema = request_schema()
    assert "$ref" not in json.dumps(schema) and "$defs" not in schema
    assert schema["required"] == ["meeting_link"] and schema["additionalProperties"] is True
    assert schema["examples"][0]["zoom"]["use_zoom_obf"] is True
    assert f"at most {MAX_EXTRA_BYTES} bytes" in schema["description"]
    properties = schema["properties"]
    assert all(properties[name] is False for name in READ_ONLY)
    assert url_schema().items() <= properties["meeting_link"].items()
    assert properties["meeting_link"]["type"] == "string" and properties["meeting_link"]["description"]
    assert properties["bot_name"] == {"type": "string", "minLength": 1, "pattern": NOT_BLANK,
                                      "maxLength": 100, "default": "obfbroker bot"}
    for name, default in [("audio_required", True), ("video_required", True)]:
        assert (properties[name]["type"], properties[name]["default"]) == ("boolean", default)
    zoom, null = properties["zoom"]["anyOf"]
    assert null == {"type": "null"} and zoom["type"] == "object" and zoom["additionalProperties"] is True
    assert zoom["properties"]["use_zoom_obf"]["default"] is False
    assert "type" not in zoom["properties"]["zoom_oauth_connection_user_id"]  # ignored without use_zoom_obf
    for where, name in [(zoom, "obf_url"), (zoom, "zak_url"), (schema, "callback_url"),
                        (schema, "bot_image_url")]:
        url, null = where["properties"][name]["anyOf"]
        assert url == {"type": "string", **url_schema()} and null == {"type": "null"}, name
        assert where["properties"][name]["description"], name
    key = properties["deduplication_key"]["anyOf"][0]
    assert (key["minLength"], key["maxLength"], key["pattern"]) == (1, 200, NOT_BLANK)
    assert properties["join_at"]["anyOf"][0] == {"type": "string", "format": "date-time"}
    assert properties["custom_attributes"]["anyOf"] == [{"type": "object"}, {"type": "null"}]
    leave = properties["automatic_leave"]["anyOf"][0]["additionalProperties"]
    assert leave == {"not": {"anyOf": [{"type": "boolean"}, {"type": "number", "exclusiveMaximum": 0}]}}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_documents_create_bot_body_is_the_models_schema(stack: Stack):
    with stack.client() as client:
        spec = client.get("/openapi.json").json()
    body = spec["paths"][CREATE]["post"]["requestBody"]
    assert body["required"] is True
    # FastAPI writes the document leaving out null values (the schema's "default": null among them).
    model = jsonable_encoder(request_schema(), exclude_none=True)
    assert body["content"]["application/json"]["schema"] == model


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_answers_the_first_problem_of_several(scene: Scene):
    response = scene.api.post(CREATE, json={"bot_message": 5, "bot_name": "", "zoom": {"use_zoom_obf": 1},
                                            "meeting_link": scene.meeting.join_url})
    body = assert_error(response, 400, "invalid_use_zoom_obf")
    assert body["detail"] == ("zoom.use_zoom_obf is invalid: it must be a JSON boolean (true or false), "
                              "not a string")


@pytest.mark.parametrize(("body", "code", "message"), [
    ({"meeting_link": "https://zoom.us:99999/j/123456789"}, "invalid_meeting_link",
     "meeting_link must be a URL"),
    (with_link(callback_url="https://hooks.example.com:99999/bot"), "invalid_callback_url",
     "callback_url must be an https URL"),
    (with_link(zoom={"obf_url": "https://tokens.example.com:70000/obf"}), "invalid_zoom_obf_url",
     "zoom.obf_url must be an https URL"),
    (with_link(bot_image_url="https://img.example.com:99999/a.png"), "invalid_bot_image_url",
     "bot_image_url must be an https URL"),
], ids=["meeting_link", "callback_url", "obf_url", "bot_image_url"])
def test_a_port_out_of_range_is_a_400_naming_the_field(body, code, message):
    # It was a 500 for the URLs we connect to (the outbound check could not read the port).
    assert problem(body) == (code, message)
