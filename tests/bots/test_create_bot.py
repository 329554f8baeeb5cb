"""POST /api/v1/bots/create_bot: every rule of the guide's Step 3, with its exact message."""

from __future__ import annotations

import pytest

from tests.support.bot_scenes import CREATE, Scene, launch_spec, new_meeting
from tests.support.customers import make_customer
from tests.support.errors import assert_error
from tests.support.zoom_events import point_sim_app_at_us


def test_hosted_obf_bot_is_queued_for_the_connected_user(scene: Scene):
    response = scene.create_bot(bot_message="hello", automatic_leave={"waiting_room_timeout": 600},
                                custom_attributes={"crm_id": 7}, callback_url="https://hooks.example.com/b")
    assert response.status_code == 201, response.text
    bot = response.json()
    assert bot["bot_id"].startswith("bot_") and bot["status"] == "queued"
    assert bot["meeting_link"] == scene.meeting.join_url
    assert bot["bot_name"] == "Notes" and bot["audio_required"] is True and bot["video_required"] is False
    assert bot["zoom"] == {"use_zoom_obf": True, "zoom_oauth_connection_user_id": scene.alice["id"]}
    assert bot["zoom_oauth_connection_user_id"] == scene.alice["id"]
    assert bot["bot_message"] == "hello" and bot["automatic_leave"] == {"waiting_room_timeout": 600}
    assert bot["custom_attributes"] == {"crm_id": 7}
    assert [e["status"] for e in bot["status_history"]] == ["queued"]
    for hidden in ("obf_url", "zak_url", "bot_secret", "secret"):
        assert hidden not in bot and hidden not in response.text
    fetched = scene.api.get(f"/api/v1/bots/{bot['bot_id']}")
    assert fetched.status_code == 200 and fetched.json() == bot


def test_defaults_fill_the_usual_bot_fields(scene: Scene):
    response = scene.api.post(CREATE, json={"meeting_link": scene.meeting.join_url})
    assert response.status_code == 201, response.text
    bot = response.json()
    assert bot["bot_name"] == "obfbroker bot"
    assert bot["audio_required"] is True and bot["video_required"] is True
    assert bot["zoom"] == {"use_zoom_obf": False} and bot["zoom_oauth_connection_user_id"] is None


def test_the_launch_spec_holds_what_the_bot_runtime_needs(scene: Scene):
    bot = scene.hosted_bot()
    spec = launch_spec(scene.stack, bot["bot_id"])
    public = scene.stack.settings.public_url
    assert spec == {"bot_id": bot["bot_id"], "meeting_number": scene.meeting.number,
                    "passcode": scene.meeting.passcode, "bot_name": "Notes",
                    "obf_url": f"{public}/token-server/zoom/obf",
                    "zak_url": f"{public}/token-server/zoom/zak", "zoom_user_ids": [scene.alice["id"]],
                    "bot_secret": spec["bot_secret"]}
    assert len(spec["bot_secret"]) >= 32


GUIDE_RULES = [
    ({"zoom": {"use_zoom_obf": True}}, "zoom_oauth_connection_user_id_required",
     "zoom.zoom_oauth_connection_user_id is required when zoom.use_zoom_obf=true"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": ""}},
     "zoom_oauth_connection_user_id_required",
     "zoom.zoom_oauth_connection_user_id is required when zoom.use_zoom_obf=true"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": "nobody42"}},
     "zoom_user_not_connected", "Zoom user nobody42 is not connected for this account"),
    ({"zoom": {"use_zoom_obf": "true", "zoom_oauth_connection_user_id": "x"}}, "invalid_use_zoom_obf",
     "use_zoom_obf is invalid"),
    ({"zoom": {"use_zoom_obf": 1}}, "invalid_use_zoom_obf", "must be a JSON boolean"),
    ({"meeting_link": "https://meet.google.com/abc-defg-hij"}, "not_a_zoom_meeting_link",
     "meeting_link must be a Zoom meeting URL"),
    ({"meeting_link": "https://zoom.us.evil.com/j/123456789"}, "not_a_zoom_meeting_link",
     "meeting_link must be a Zoom meeting URL"),
    ({"meeting_link": "https://zoom.us/my/alice.example"}, "meeting_number_required",
     "must include the meeting number"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": "x",
               "obf_url": "https://tokens.example.com/obf"}}, "custom_token_url_with_hosted_auth",
     "hosted Zoom auth supplies them"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": "x",
               "zak_url": "https://tokens.example.com/zak"}}, "custom_token_url_with_hosted_auth",
     "zoom.obf_url or zoom.zak_url"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": "x",
               "zoom_oauth_connection_user_ids": ["x"]}}, "both_connection_user_id_fields",
     "not both"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_ids": []}},
     "invalid_zoom_oauth_connection_user_ids", "must be an array of 1 to 10 Zoom user ids"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_ids": [f"u{i}" for i in range(11)]}},
     "invalid_zoom_oauth_connection_user_ids", "must be an array of 1 to 10 Zoom user ids"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_ids": "abc"}},
     "invalid_zoom_oauth_connection_user_ids", "must be an array"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_ids": ["a", 7]}},
     "invalid_zoom_oauth_connection_user_ids",
     "zoom_oauth_connection_user_ids[1] must be a non-empty string"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_ids": ["a", "a"]}},
     "invalid_zoom_oauth_connection_user_ids", "lists Zoom user a twice"),
    ({"zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_ids": ["nobody42"]}},
     "zoom_user_not_connected", "Zoom user nobody42 is not connected for this account"),
    ({"meeting_link": None}, "invalid_meeting_link", "meeting_link is required"),
    ({"meeting_link": "not a url"}, "invalid_meeting_link", "meeting_link must be a URL"),
    ({"meeting_link": 42}, "invalid_meeting_link", "meeting_link must be a URL"),
    ({"zoom": "yes"}, "invalid_zoom", "zoom must be a JSON object"),
    ({"zoom": {"obf_url": "https://a.example.com/obf", "zak_url": "https://a.example.com/zak"}},
     "both_token_urls", "not both"),
    ({"zoom": {"obf_url": "http://tokens.example.com/obf"}}, "invalid_zoom_obf_url",
     "zoom.obf_url must be an https URL"),
    ({"bot_name": ""}, "invalid_bot_name", "bot_name"),
    ({"bot_name": "x" * 101}, "invalid_bot_name", "at most 100"),
    ({"audio_required": "yes"}, "invalid_audio_required", "audio_required must be a boolean"),
    ({"video_required": None}, "invalid_video_required", "video_required must be a boolean"),
    ({"callback_url": "http://hooks.example.com/x"}, "invalid_callback_url",
     "callback_url must be an https URL"),
    ({"custom_attributes": [1]}, "invalid_custom_attributes", "custom_attributes must be a JSON object"),
    ({"join_at": "tomorrow"}, "invalid_join_at", "ISO 8601"),
    ({"join_at": "2020-01-01T00:00:00Z"}, "invalid_join_at", "join_at must be in the future"),
    ({"join_at": "2099-01-01T00:00:00"}, "invalid_join_at", "with a timezone"),
    ({"bot_message": 5}, "invalid_bot_message", "bot_message must be a string"),
    ({"automatic_leave": {"waiting_room_timeout": -1}}, "invalid_automatic_leave", "non-negative"),
    ({"recording_config": "all"}, "invalid_recording_config", "recording_config must be a JSON object"),
    ({"bot_image_url": "ftp://x.example.com/a.png"}, "invalid_bot_image_url", "https URL"),
    ({"status": "in_meeting"}, "read_only_field", "status is set by obfbroker"),
    ({"created_at": "2020-01-01T00:00:00Z"}, "read_only_field", "created_at is set by obfbroker"),
]


@pytest.mark.parametrize(("overrides", "code", "message"), GUIDE_RULES,
                         ids=[rule[1] + f"-{i}" for i, rule in enumerate(GUIDE_RULES)])
def test_create_bot_rules_answer_400_with_the_guides_message(scene: Scene, overrides, code, message):
    response = scene.create_bot(**overrides)
    assert_error(response, 400, code, message)
    assert bot_count(scene) == 0, "a refused bot is not stored"


def bot_count(scene: Scene) -> int:
    from sqlalchemy import func, select

    from obfbroker.bots.models import Bot
    from tests.support.bot_scenes import run

    async def work(runtime):
        async with runtime.sessions() as session:
            return (await session.execute(select(func.count()).select_from(Bot).where(
                Bot.account_id == scene.customer.account_id))).scalar()

    return run(scene.stack, work)


def test_no_connections_at_all_has_its_own_message(scene: Scene):
    other = make_customer(scene.stack, name="fresh")
    response = other.api.post(CREATE, json={
        "meeting_link": scene.meeting.join_url,
        "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": scene.alice["id"]}})
    assert_error(response, 400, "no_zoom_users_connected", "No Zoom users connected for this account")


def test_another_accounts_user_is_not_connected_for_this_account(scene: Scene):
    other = make_customer(scene.stack, name="other")
    bob = scene.stack.sim.create_user("Bob")
    assert other.connect(bob["id"]).status_code == 200
    response = other.api.post(CREATE, json={
        "meeting_link": scene.meeting.join_url,
        "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": scene.alice["id"]}})
    assert_error(response, 400, "zoom_user_not_connected",
                 f"Zoom user {scene.alice['id']} is not connected for this account")


def test_a_disconnected_user_gets_the_guides_message(scene: Scene):
    # Zoom revoked it (a deleted connection is erased instead: "... is not connected ...").
    sim = scene.stack.sim
    point_sim_app_at_us(scene.customer)
    sim._ok(sim.http.post(f"/_sim/users/{scene.alice['id']}/deauthorize",
                          json={"client_id": scene.customer.app.client_id}))
    assert_error(scene.create_bot(), 400, "zoom_user_disconnected",
                 f"Zoom user {scene.alice['id']} is disconnected (no valid refresh token)")


def test_bodies_that_are_not_json_objects_are_400(scene: Scene):
    assert_error(scene.api.post(CREATE, content=b"meeting_link=x",
                                headers={"content-type": "application/json"}), 400, "invalid_request")
    assert_error(scene.api.post(CREATE, json=["https://zoom.us/j/123456789"]), 400, "invalid_request")


def test_other_accounts_get_404_for_a_bot(scene: Scene):
    bot = scene.hosted_bot()
    other = make_customer(scene.stack, name="other")
    assert_error(other.api.get(f"/api/v1/bots/{bot['bot_id']}"), 404, "bot_not_found",
                 f"Bot {bot['bot_id']} not found")


def test_unknown_meetstream_fields_are_kept_and_echoed(scene: Scene):
    response = scene.create_bot(some_future_field={"a": 1}, live_audio_required={"websocket_url": "wss://x"})
    assert response.status_code == 201
    assert response.json()["some_future_field"] == {"a": 1}


def test_a_custom_token_server_bot_keeps_the_customers_url(scene: Scene):
    meeting = new_meeting(scene.stack, scene.alice["id"])
    response = scene.api.post(CREATE, json={
        "meeting_link": meeting.join_url, "zoom": {"obf_url": "https://tokens.example.com/obf"}})
    assert response.status_code == 201, response.text
    bot = response.json()
    assert bot["zoom"] == {"use_zoom_obf": False, "obf_url": "https://tokens.example.com/obf"}
    spec = launch_spec(scene.stack, bot["bot_id"])
    assert spec["obf_url"] == "https://tokens.example.com/obf" and "zak_url" not in spec


def test_bots_launch_spec_command_prints_one_json_object(scene: Scene):
    import json

    from tests.support.databases import TEST_KEY
    from tests.support.processes import run_cli

    bot = scene.hosted_bot()
    env = {"OBFBROKER_DATABASE_URL": scene.stack.settings.database_url,
           "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY, "OBFBROKER_PUBLIC_URL": scene.stack.settings.public_url}
    result = run_cli("bots", "launch-spec", bot["bot_id"], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == launch_spec(scene.stack, bot["bot_id"])
    missing = run_cli("bots", "launch-spec", "bot_missing", env=env)
    assert missing.returncode == 1 and "Bot bot_missing not found" in missing.stderr
