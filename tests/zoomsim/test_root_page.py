"""The simulator's root, `/`: a page that says what this server is and shows what it holds (users,
apps, meetings with who is in each: participants, bots, waiting room), linking to the control
API's reads and the docs, every link answering; the same as JSON for API clients; never a
secret. And the reads it links to that `GET /_sim/meetings...` added."""

from __future__ import annotations

from obfbroker.zoomsim.seed import (
    ALICE_EMAIL,
    ALICE_ID,
    BOB_EMAIL,
    BOB_ID,
    CAROL_EMAIL,
    CAROL_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URIS,
    DEMO_WEBHOOK_SECRET_TOKEN,
)
from tests.support.html_pages import PageOutline
from tests.zoomsim.helpers import connect, enter, join, joined_bot, mint, new_meeting

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def busy_simulator(http, sim_state) -> dict:
    """Alice hosts a meeting with her notetaker in it; Bob's meeting has a waiting room where
    Alice's bot waits; Carol's meeting ended. Returns the meetings and the tokens handed out."""
    alice, bob = connect(http, ALICE_ID), connect(http, BOB_ID)
    standup, review, retro = new_meeting(http, ALICE_ID), new_meeting(http, BOB_ID, waiting_room=True), \
        new_meeting(http, CAROL_ID)
    enter(http, standup, ALICE_ID)
    enter(http, standup, CAROL_ID)
    joined_bot(http, sim_state, standup, alice["access_token"], name="Standup notes")
    enter(http, review, BOB_ID)
    enter(http, review, ALICE_ID)
    obf = mint(http, alice["access_token"], review)
    waiting = join(http, sim_state, review, obf=obf, name="Review notes")
    assert waiting.json()["state"] == "in_waiting_room"
    assert http.post(f"/_sim/meetings/{retro['meeting_number']}/end").status_code == 200
    tokens = [grant[kind] for grant in (alice, bob) for kind in ("access_token", "refresh_token")]
    return {"standup": standup, "review": review, "retro": retro, "tokens": tokens}


def test_the_page_shows_users_apps_and_who_is_in_each_meeting(http, sim_state):
    scene = busy_simulator(http, sim_state)
    response = http.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = PageOutline.of(response.text)
    assert page.title == "Overview - Zoom simulator"

    standup = page.rows[f"meeting-{scene['standup']['meeting_number']}"]
    assert "Alice Example (host)" in standup and "Carol Example" in standup
    assert "open off" in standup  # state, then the waiting room
    assert "Standup notes: in_meeting, on behalf of Alice Example" in standup
    review = page.rows[f"meeting-{scene['review']['meeting_number']}"]
    assert "Bob Example (host)" in review and "Alice Example" in review
    assert "Review notes: in_waiting_room, on behalf of Alice Example" in review
    assert "open on" in review
    retro = page.rows[f"meeting-{scene['retro']['meeting_number']}"]
    assert "ended" in retro and "nobody" in retro
    assert scene["standup"]["join_url"] in standup

    for user_id, email in ((ALICE_ID, ALICE_EMAIL), (BOB_ID, BOB_EMAIL), (CAROL_ID, CAROL_EMAIL)):
        assert user_id in page.text and email in page.text
        assert f"/_sim/users/{user_id}" in page.links and f"/_sim/users/{user_id}/grants" in page.links
    assert DEMO_CLIENT_ID in page.text and f"/_sim/apps/{DEMO_CLIENT_ID}" in page.links
    assert all(uri in page.text for uri in DEMO_REDIRECT_URIS)
    for meeting in ("standup", "review", "retro"):
        assert f"/_sim/meetings/{scene[meeting]['meeting_number']}" in page.links
    reads = ("/_sim/users", "/_sim/apps", "/_sim/meetings", "/_sim/stats", "/_sim/docs", "/_sim/openapi.json")
    assert all(read in page.links for read in reads)

    secrets = [DEMO_CLIENT_SECRET, DEMO_WEBHOOK_SECRET_TOKEN, *scene["tokens"]]
    assert not [secret for secret in secrets if secret in response.text]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_every_link_on_the_page_answers(http, sim_state):
    busy_simulator(http, sim_state)
    links = PageOutline.of(http.get("/", headers=BROWSER).text).links
    assert len(links) > 15
    for href in dict.fromkeys(links):
        assert href.startswith("/"), href  # the page links only to this server
        response = http.get(href)
        assert response.status_code == 200, (href, response.status_code, response.text[:200])


def test_an_api_client_gets_the_same_as_json_without_secrets(http, sim_state):
    scene = busy_simulator(http, sim_state)
    for headers in ({}, {"Accept": "application/json"}):
        response = http.get("/", headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        body = response.json()
        assert [user["id"] for user in body["users"]] == [ALICE_ID, BOB_ID, CAROL_ID]
        assert [app["client_id"] for app in body["apps"]] == [DEMO_CLIENT_ID]
        numbers = [meeting["meeting_number"] for meeting in body["meetings"]]
        assert numbers == [scene[name]["meeting_number"] for name in ("standup", "review", "retro")]
        assert "/_sim/meetings" in body["links"]["control"] and "/_sim/docs" in body["links"]["docs"]
        assert not [secret for secret in (DEMO_CLIENT_SECRET, DEMO_WEBHOOK_SECRET_TOKEN, *scene["tokens"])
                    if secret in response.text]


def test_names_are_escaped_and_an_empty_simulator_says_how_to_start(http, sim_state):
    created = http.post("/_sim/users", json={"email": "eve@example.com",
                                             "display_name": "<script>alert(1)</script> Eve"})
    assert created.status_code == 201
    page = http.get("/", headers=BROWSER).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Eve" in page
    assert "No meetings yet" in page


def test_meetings_and_their_participants_can_be_listed(http, sim_state):
    scene = busy_simulator(http, sim_state)
    listed = http.get("/_sim/meetings").json()["meetings"]
    review = scene["review"]["meeting_number"]
    assert listed[1] == http.get(f"/_sim/meetings/{review}").json()
    participants = http.get(f"/_sim/meetings/{review}/participants").json()
    assert participants["meeting_number"] == review
    assert [p["user_id"] for p in participants["participants"]] == [BOB_ID, ALICE_ID]
    assert http.get("/_sim/meetings/1234/participants").status_code == 404
    sim_state.reset()
    assert http.get("/_sim/meetings").json() == {"meetings": []}
