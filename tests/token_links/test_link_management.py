"""Creating, listing, reading and revoking token links: one per connection and platform, with
the URLs (and their 256-bit secret) in the creation answer only, scoped to the account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.customers import make_customer
from tests.support.errors import assert_error
from tests.support.token_links import LINKS, LinkScene, attendee_secret

DEFAULTS = {
    "meetstream": (["onbehalf", "zak"], {"obf", "zak"}),
    "recall": (["onbehalf", "zak", "local_recording"], {"obf", "zak", "join_token"}),
    "attendee": (["onbehalf", "local_recording"], {"tokens"}),
    "meetingbaas": (["onbehalf"], {"obf"}),
}


@pytest.mark.parametrize("platform", sorted(DEFAULTS))
def test_each_platform_gets_its_urls_and_default_token_types(links: LinkScene, platform: str):
    extra = {"platform_secret": attendee_secret()} if platform == "attendee" else {}
    link = links.create(platform=platform, metadata={"team": "notes"}, **extra)
    types, kinds = DEFAULTS[platform]
    assert link["token_types"] == types and set(link["urls"]) == kinds
    assert link["id"].startswith("tl_") and link["state"] == "active" and link["uses"] == 0
    assert link["zoom_user_id"] == links.alice["id"] and link["metadata"] == {"team": "notes"}
    assert link["has_platform_secret"] is (platform == "attendee")
    keys = set()
    for kind, url in link["urls"].items():
        parts = urlsplit(url)
        assert url.startswith(links.stack.settings.public_url + f"/token-links/{link['id']}/{kind}?")
        (key,) = parse_qs(parts.query)["key"]
        keys.add(key)
    (key,) = keys
    assert len(key) >= 43, "at least 256 bits"
    # Never again: not in a read, a list or the uses.
    shown = links.api.get(f"{LINKS}/{link['id']}").text + links.api.get(LINKS).text
    assert key not in shown and "urls" not in links.api.get(f"{LINKS}/{link['id']}").json()


def test_a_link_allows_only_the_types_asked_and_its_platform_mints(links: LinkScene):
    recall = links.create(platform="recall", token_types=["onbehalf"])
    assert set(recall["urls"]) == {"obf"}
    cases = [
        ({"platform": "meetingbaas", "token_types": ["zak"]}, "invalid_token_types", "cannot mint zak"),
        ({"platform": "meetstream", "token_types": ["local_recording"]}, "invalid_token_types",
         "cannot mint"),
        ({"platform": "attendee", "token_types": ["zak"], "platform_secret": attendee_secret()},
         "invalid_token_types", "must allow onbehalf"),
        ({"platform": "recall", "token_types": ["zak", "zak"]}, "invalid_token_types", "twice"),
        ({"platform": "recall", "token_types": []}, "invalid_request", "token_types"),
        ({"platform": "teams"}, "invalid_request", "platform"),
        ({"platform": "attendee"}, "platform_secret_required", "platform_secret is required"),
        ({"platform": "attendee", "platform_secret": "not base64!"}, "invalid_platform_secret", "base64"),
        ({"platform": "attendee", "platform_secret": "c2hvcnQ="}, "invalid_platform_secret", "32 bytes"),
        ({"platform": "recall", "platform_secret": attendee_secret()}, "invalid_platform_secret",
         "attendee links only"),
        ({"platform": "recall", "meeting_link": "https://meet.google.com/abc-defg-hij"},
         "invalid_meeting_link", "Zoom meeting URL"),
        ({"platform": "recall", "meeting_link": "https://zoom.us/my/alice"}, "meeting_number_required",
         "meeting number"),
        ({"platform": "recall", "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()},
         "invalid_expires_at", "future"),
        ({"platform": "recall", "expires_at": "2030-01-01T00:00:00"}, "invalid_request", "expires_at"),
        ({"platform": "recall", "max_uses": 0}, "invalid_request", "max_uses"),
        ({"platform": "recall", "metadata": [1]}, "invalid_metadata", "JSON object"),
        ({"platform": "recall", "secret": "x"}, "invalid_request", "secret"),
    ]
    for body, code, words in cases:
        response = links.api.post(LINKS, json={"zoom_user_id": links.alice["id"], **body})
        assert_error(response, 400, code)
        assert words in response.json()["detail"], (body, response.json()["detail"])
    assert [link["id"] for link in links.api.get(LINKS).json()["token_links"]] == [recall["id"]]


def test_only_the_accounts_own_connected_users_can_be_named(links: LinkScene):
    assert_error(links.api.post(LINKS, json={"zoom_user_id": links.bob["id"], "platform": "recall"}),
                 404, "zoom_user_not_connected")
    other = make_customer(links.stack, name="other")
    carol = links.stack.sim.create_user("Carol")
    assert other.connect(carol["id"]).status_code == 200
    # Carol is connected, but in another account: this account cannot name her.
    assert_error(links.api.post(LINKS, json={"zoom_user_id": carol["id"], "platform": "recall"}),
                 404, "zoom_user_not_connected")
    link = links.create(platform="recall")
    # Nor see, revoke or read the uses of another account's link.
    for method, path in (("GET", f"{LINKS}/{link['id']}"), ("DELETE", f"{LINKS}/{link['id']}"),
                         ("GET", f"{LINKS}/{link['id']}/uses")):
        assert_error(other.api.request(method, path), 404, "token_link_not_found")
    assert other.api.get(LINKS).json()["token_links"] == []
    other.api.close()


def test_list_filters_pages_and_revocation(links: LinkScene):
    platforms = ("recall", "meetstream", "recall", "meetingbaas")
    created = [links.create(platform=platform) for platform in platforms]
    listed = links.api.get(LINKS, params={"limit": 3}).json()
    assert [link["id"] for link in listed["token_links"]] == [c["id"] for c in reversed(created)][:3]
    rest = links.api.get(LINKS, params={"limit": 3, "cursor": listed["next_cursor"]}).json()
    assert [link["id"] for link in rest["token_links"]] == [created[0]["id"]] and rest["next_cursor"] is None
    recall = links.api.get(LINKS, params={"platform": "recall"}).json()["token_links"]
    assert {link["id"] for link in recall} == {created[0]["id"], created[2]["id"]}
    assert len(links.api.get(LINKS, params={"zoom_user_id": links.alice["id"]}).json()["token_links"]) == 4
    assert links.api.get(LINKS, params={"zoom_user_id": "nobody"}).json()["token_links"] == []
    assert_error(links.api.get(LINKS, params={"platform": "teams"}), 400, "invalid_request")
    assert_error(links.api.get(LINKS, params={"cursor": "nope"}), 400, "invalid_cursor")

    revoked = links.api.delete(f"{LINKS}/{created[1]['id']}")
    assert revoked.status_code == 200
    assert revoked.json() == {"message": f"Token link {created[1]['id']} revoked", "id": created[1]["id"]}
    read = links.read(created[1])
    assert read["state"] == "revoked" and read["revoked_reason"] == "revoked" and read["revoked_at"]
    assert links.api.delete(f"{LINKS}/{created[1]['id']}").json()["id"] == created[1]["id"]
    assert links.read(created[1])["revoked_at"] == read["revoked_at"], "revoking again changes nothing"
    assert_error(links.api.get(f"{LINKS}/tl_nothing"), 404, "token_link_not_found")


def test_an_idempotency_key_replays_the_same_link_and_urls(links: LinkScene):
    body = {"zoom_user_id": links.alice["id"], "platform": "meetingbaas"}
    first = links.api.post(LINKS, json=body, headers={"Idempotency-Key": "link-1"})
    again = links.api.post(LINKS, json=body, headers={"Idempotency-Key": "link-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers.get("idempotent-replayed") == "true"
    assert len(links.api.get(LINKS).json()["token_links"]) == 1
