"""Each platform's bot, driven as its contract says it calls its Zoom token URL
(tests/support/platform_bots.py), gets a token from a token link and joins the simulated meeting
with it; with a local-recording join token it skips the waiting room and may record."""

from __future__ import annotations

from typing import Any

from tests.support import platform_bots as bots
from tests.support.bot_scenes import Meeting
from tests.support.token_links import LinkScene, attendee_secret


def enters(links: LinkScene, user: dict[str, Any], meeting: Meeting) -> None:
    links.stack.sim._ok(links.stack.sim.http.post(f"/_sim/meetings/{meeting.number}/participants",
                                                  json={"user_id": user["id"]}))


def waiting_room_meeting(links: LinkScene, host: dict[str, Any]) -> Meeting:
    data = links.stack.sim._ok(links.stack.sim.http.post(
        "/_sim/meetings", json={"host_user_id": host["id"], "waiting_room": True}))
    return Meeting(str(data["meeting_number"]), data["passcode"], data["join_url"])


def assert_in(joined: bots.Joined, *, state: str = "in_meeting", can_record: bool = False) -> None:
    assert joined.status == 201, joined.body
    assert joined.body["state"] == state and joined.body["can_record"] is can_record, joined.body


def test_meetstream_bots_fetch_obf_with_meeting_number_and_zak_as_given(links: LinkScene):
    link = links.create(platform="meetstream")
    enters(links, links.alice, links.meeting)
    obf = bots.meetstream(links.url(link, "obf"), bot_id="ms_bot_7", meeting_number=links.meeting.number,
                          webhook_secret="meetstream-side-secret")
    assert_in(bots.join(links.stack.sim, links.customer.app, links.meeting, obf=obf))
    zak = bots.meetstream(links.url(link, "zak"), bot_id="ms_bot_8", meeting_number=None)
    joined = bots.join(links.stack.sim, links.customer.app, links.meeting, zak=zak)
    assert_in(joined)
    assert joined.body["zak_user_id"] == links.alice["id"]
    uses = links.uses(link)
    assert [(u["token_type"], u["platform_bot_id"], u["status"]) for u in uses] == [
        ("zak", "ms_bot_8", "minted"), ("onbehalf", "ms_bot_7", "minted")]
    assert uses[1]["meeting_number"] == links.meeting.number and links.read(link)["uses"] == 2


def test_meetstreams_post_fallback_gets_the_same_token(links: LinkScene):
    """What MeetStream's bot sends after a 405: POST with JSON, credentials in the body."""
    link = links.create(platform="meetstream")
    enters(links, links.alice, links.meeting)
    response = links.stack.client().post(links.url(link, "obf"), json={
        "bot_id": "ms_bot_9", "meeting_number": links.meeting.number, "webhook_secret": "s"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    assert_in(bots.join(links.stack.sim, links.customer.app, links.meeting, obf=response.text))
    assert links.uses(link)[0]["platform_bot_id"] == "ms_bot_9"


def test_recall_bots_call_the_urls_as_given_and_skip_the_waiting_room_with_a_join_token(links: LinkScene):
    meeting = waiting_room_meeting(links, links.alice)
    link = links.create(platform="recall", meeting_link=meeting.join_url)
    enters(links, links.alice, meeting)
    # Without a join token the bot waits for the host to admit it.
    waiting = bots.join(links.stack.sim, links.customer.app, meeting, obf=bots.recall(links.url(link, "obf")))
    assert_in(waiting, state="in_waiting_room")
    obf, join_token = bots.recall(links.url(link, "obf")), bots.recall(links.url(link, "join_token"))
    assert_in(bots.join(links.stack.sim, links.customer.app, meeting, obf=obf, join_token=join_token),
              can_record=True)
    assert [u["token_type"] for u in links.uses(link)] == ["local_recording", "onbehalf", "onbehalf"]


def test_recall_links_serve_any_meeting_named_in_the_url(links: LinkScene):
    link = links.create(platform="recall")
    enters(links, links.alice, links.meeting)
    obf = bots.recall(links.url(link, "obf") + f"&meeting_id={links.meeting.number}")
    assert_in(bots.join(links.stack.sim, links.customer.app, links.meeting, obf=obf))
    zak = bots.recall(links.url(link, "zak"))  # a ZAK needs no meeting
    assert_in(bots.join(links.stack.sim, links.customer.app, links.meeting, zak=zak))


def test_attendee_bots_get_obf_and_an_app_privilege_token_for_a_meeting_the_user_hosts(links: LinkScene):
    secret = attendee_secret()
    link = links.create(platform="attendee", platform_secret=secret)
    meeting = waiting_room_meeting(links, links.alice)
    enters(links, links.alice, meeting)
    tokens = bots.attendee(links.url(link, "tokens"), secret_b64=secret, bot_id="bot_3hfP0PXEsFVLPi6J",
                           meeting_url=meeting.join_url, bot_metadata={"customer": "ünïcode", "n": 1.5})
    assert tokens["onbehalf_token"] and tokens["app_privilege_token"]
    assert tokens["zak_token"] is None and tokens["join_token"] is None
    assert_in(bots.join(links.stack.sim, links.customer.app, meeting, obf=tokens["onbehalf_token"],
                        join_token=tokens["app_privilege_token"]), can_record=True)
    # In Bob's meeting Alice is no host: the OBF token still comes, the join token is null.
    enters(links, links.alice, links.bobs_meeting)
    in_bobs = bots.attendee(links.url(link, "tokens"), secret_b64=secret, bot_id="bot_2",
                            meeting_url=links.bobs_meeting.join_url)
    assert in_bobs["onbehalf_token"] and in_bobs["app_privilege_token"] is None
    assert_in(bots.join(links.stack.sim, links.customer.app, links.bobs_meeting,
                        obf=in_bobs["onbehalf_token"]))
    uses = links.uses(link)
    assert [(u["token_type"], u["minted"], u["platform_bot_id"]) for u in uses] == [
        ("bundle", ["onbehalf"], "bot_2"),
        ("bundle", ["onbehalf", "local_recording"], "bot_3hfP0PXEsFVLPi6J")]
    assert links.read(link)["uses"] == 2, "one call, one use, however many tokens it got"


def test_attendee_links_that_allow_zak_add_a_zak_token(links: LinkScene):
    secret = attendee_secret()
    link = links.create(platform="attendee", platform_secret=secret, token_types=["onbehalf", "zak"])
    tokens = bots.attendee(links.url(link, "tokens"), secret_b64=secret, bot_id="b",
                           meeting_url=links.meeting.join_url)
    assert tokens["onbehalf_token"] and tokens["zak_token"] and tokens["app_privilege_token"] is None
    joined = bots.join(links.stack.sim, links.customer.app, links.meeting, zak=tokens["zak_token"])
    assert_in(joined)


def test_meeting_baas_bots_name_the_meeting_in_extra_or_the_url(links: LinkScene):
    link = links.create(platform="meetingbaas")
    enters(links, links.alice, links.meeting)
    bot_id = "6f1c9e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
    obf = bots.meetingbaas(links.url(link, "obf"), bot_id=bot_id,
                           extra={"meeting_number": links.meeting.number, "customer": "acme"})
    assert_in(bots.join(links.stack.sim, links.customer.app, links.meeting, obf=obf))
    by_url = bots.meetingbaas(links.url(link, "obf") + f"&meeting_id={links.meeting.number}", bot_id="b2")
    assert_in(bots.join(links.stack.sim, links.customer.app, links.meeting, obf=by_url))
    bound = links.create(platform="meetingbaas", meeting_link=links.meeting.join_url)
    assert_in(bots.join(links.stack.sim, links.customer.app, links.meeting,
                        obf=bots.meetingbaas(links.url(bound, "obf"), bot_id="b3")))
    assert [u["platform_bot_id"] for u in links.uses(link)] == ["b2", bot_id]


def test_an_obf_token_is_bound_to_the_meeting_the_call_or_link_names(links: LinkScene):
    """A token minted for one meeting does not join another: Zoom binds OBF tokens to meetings."""
    link = links.create(platform="recall", meeting_link=links.meeting.join_url)
    enters(links, links.alice, links.bobs_meeting)
    obf = bots.recall(links.url(link, "obf"))
    refused = bots.join(links.stack.sim, links.customer.app, links.bobs_meeting, obf=obf)
    assert refused.status == 403 and refused.body["error"] == "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING"
