"""What a token link refuses, and that a refusal mints nothing: identical 401s for an unknown link
and a wrong key, 410 once revoked, expired or used up, Attendee's signature, the meeting rules,
the rate, a disconnected or erased connection, Zoom's own refusals; HEAD never mints."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from obfbroker.app import create_app
from tests.support import platform_bots as bots
from tests.support.bot_scenes import expire_stored_access_token
from tests.support.errors import assert_error
from tests.support.http import http_get
from tests.support.servers import serve_app
from tests.support.stack import Stack, make_settings
from tests.support.token_links import LinkScene, attendee_secret, link_scene


def mints(links: LinkScene) -> int:
    stats = links.stack.sim.stats()
    return stats["obf_mints"] + stats["zak_mints"] + stats.get("join_token_mints", 0)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return http_get(url, timeout=30, **kwargs)


def test_an_unknown_link_and_a_wrong_key_get_the_same_401(links: LinkScene):
    link = links.create(platform="recall", meeting_link=links.meeting.join_url)
    url = links.url(link, "obf")
    base, key = url.split("?key=")
    answers = [
        get(f"{base}?key={'A' * len(key)}"),  # wrong key
        get(base.replace(link["id"], "tl_000000000000000000000000") + f"?key={key}"),  # unknown link
        get(base),  # no key
        get(base.replace(link["id"], "x" * 500) + f"?key={key}"),  # no such id can exist
        get(f"{base}?key={key[:-1]}"),
    ]
    first = answers[0]
    for answer in answers:
        assert answer.status_code == 401, answer.text
        assert answer.json() == first.json() == {"detail": "Unknown token link or wrong key",
                                                  "code": "invalid_link_credentials",
                                                  "message": "Unknown token link or wrong key"}
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers.get("content-type") == first.headers.get("content-type")
    assert mints(links) == 0 and links.uses(link) == [], "nothing is recorded for a stranger"


def test_revoked_expired_and_used_up_links_answer_410_and_mint_nothing(links: LinkScene):
    revoked = links.create(platform="meetingbaas", meeting_link=links.meeting.join_url)
    assert links.api.delete(f"/api/v1/zoom/token-links/{revoked['id']}").status_code == 200
    capped = links.create(platform="meetingbaas", meeting_link=links.meeting.join_url, max_uses=1)
    assert get(links.url(capped, "obf")).status_code == 200
    expiring = links.create(platform="meetingbaas", meeting_link=links.meeting.join_url,
                            expires_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    before = mints(links)
    time.sleep(1.1)
    for link, code in ((revoked, "token_link_revoked"), (capped, "token_link_used_up"),
                       (expiring, "token_link_expired")):
        assert_error(get(links.url(link, "obf")), 410, code)
        assert links.read(link)["state"] == code.removeprefix("token_link_")
        assert links.uses(link)[0] | {"at": None} == {
            "at": None, "token_type": "onbehalf", "minted": [], "meeting_number": links.meeting.number,
            "platform_bot_id": None, "status": "refused", "code": code}
    assert mints(links) == before
    assert links.read(capped)["uses"] == 1, "a refused call uses nothing"


def test_head_never_mints(links: LinkScene):
    link = links.create(platform="recall", meeting_link=links.meeting.join_url)
    for kind in ("obf", "zak", "join_token"):
        answer = httpx.head(links.url(link, kind), timeout=30)
        assert answer.status_code == 405 and answer.headers["cache-control"] == "no-store"
        assert "HEAD" not in answer.headers["allow"]
    assert mints(links) == 0


def test_an_attendee_call_changed_after_signing_is_401(links: LinkScene):
    secret = attendee_secret()
    link = links.create(platform="attendee", platform_secret=secret)
    url = links.url(link, "tokens")
    tampered = bots.attendee_request(url, secret_b64=secret, bot_id="b", meeting_url=links.meeting.join_url,
                                     tamper=True)
    assert_error(tampered, 401, "invalid_signature")
    wrong_secret = bots.attendee_request(url, secret_b64=attendee_secret(), bot_id="b",
                                         meeting_url=links.meeting.join_url)
    assert_error(wrong_secret, 401, "invalid_signature")
    unsigned = httpx.post(url, json={"bot_id": "b", "meeting_url": links.meeting.join_url}, timeout=30)
    assert_error(unsigned, 401, "invalid_signature")
    assert_error(httpx.get(url, timeout=30), 405, "method_not_allowed")
    assert mints(links) == 0
    assert [u["code"] for u in links.uses(link)] == ["method_not_allowed"] + ["invalid_signature"] * 3


def test_the_meeting_must_be_the_bound_one_and_named_where_the_token_needs_one(links: LinkScene):
    bound = links.create(platform="meetstream", meeting_link=links.meeting.join_url)
    assert_error(get(links.url(bound, "obf") + f"&meeting_number={links.bobs_meeting.number}",
                     headers={"X-Bot-Id": "b"}), 403, "meeting_mismatch")
    assert get(links.url(bound, "obf"), headers={"X-Bot-Id": "b"}).status_code == 200, "the bound one"
    free = links.create(platform="recall")
    assert_error(get(links.url(free, "obf")), 400, "meeting_number_required")
    assert_error(get(links.url(free, "join_token")), 400, "meeting_number_required")
    assert_error(get(links.url(free, "obf") + "&meeting_id=12ab"), 400, "invalid_meeting_number")
    assert get(links.url(free, "zak")).status_code == 200, "a ZAK needs no meeting"
    baas = links.create(platform="meetingbaas")
    assert_error(get(links.url(baas, "obf") + "&bot_id=x&extra=%7B%7D"), 400, "meeting_number_required")
    assert_error(get(links.url(baas, "obf") + "&bot_id=x&extra=nope"), 400, "invalid_request")


def test_a_url_the_link_does_not_have_is_404(links: LinkScene):
    link = links.create(platform="recall", token_types=["onbehalf"])
    base = links.url(link, "obf")
    for kind in ("zak", "join_token", "tokens"):
        assert_error(get(base.replace("/obf?", f"/{kind}?")), 404, "token_link_url_not_found")
    # No such kind of URL: FastAPI's validation answers it (the lean GET handler hands it on).
    nothing = get(base.replace("/obf?", "/nothing?"))
    assert_error(nothing, 400, "invalid_request")
    assert nothing.headers["cache-control"] == "no-store"
    assert mints(links) == 0


def test_a_disconnected_connection_answers_409_and_an_erased_one_410(links: LinkScene):
    link = links.create(platform="recall", meeting_link=links.meeting.join_url)
    links.stack.sim.revoke_user(links.alice["id"])
    expire_stored_access_token(links.stack, links.customer.account_id, links.alice["id"])
    refused = get(links.url(link, "obf"))
    assert_error(refused, 409, "zoom_user_disconnected")
    assert refused.json()["detail"] == (f"Zoom user {links.alice['id']} is disconnected "
                                        "(no valid refresh token)")
    assert_error(get(links.url(link, "zak")), 409, "zoom_user_disconnected")
    assert_error(links.api.post("/api/v1/zoom/token-links", json={
        "zoom_user_id": links.alice["id"], "platform": "recall"}), 400, "zoom_user_disconnected")
    assert links.api.delete(f"/api/v1/zoom/oauth/connections/{links.alice['id']}").status_code == 200
    assert_error(get(links.url(link, "obf")), 410, "token_link_revoked")
    erased = links.read(link)
    assert erased["state"] == "revoked" and erased["revoked_reason"] == "connection_deleted"


def test_zoom_refusals_and_outages_reach_the_bot_as_such(links: LinkScene):
    link = links.create(platform="recall", meeting_link=links.bobs_meeting.join_url)
    # Alice does not host Bob's meeting: no join token, and the connection is not blamed.
    not_host = get(links.url(link, "join_token"))
    assert_error(not_host, 409, "not_meeting_host")
    assert not_host.json()["zoom_code"] == 3003
    gone = links.create(platform="recall", meeting_link="https://zoom.us/j/99999999999")
    refused = get(links.url(gone, "join_token"))
    assert_error(refused, 502, "zoom_error")
    assert refused.json()["zoom_code"] == 3001 and "token" not in refused.json()
    links.stack.sim.faults(rate_5xx=1.0)
    try:
        down = get(links.url(link, "obf"))
    finally:
        links.stack.sim.faults(rate_5xx=0.0)
    assert_error(down, 503, "zoom_unavailable")
    assert int(down.headers["retry-after"]) >= 1
    connection = links.api.get(f"/api/v1/zoom/oauth/connections/{links.alice['id']}").json()
    assert connection["state"] == "connected"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_link_answers_at_most_its_rate_per_minute(database_url: str, sim):
    settings = make_settings(database_url, sim, token_link_calls_per_minute=3)
    with serve_app(create_app(settings)) as url:
        links = link_scene(Stack(url=url, settings=settings, sim=sim))
        link = links.create(platform="recall", meeting_link=links.meeting.join_url)
        answers = [get(links.url(link, "zak")) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert_error(answers[-1], 429, "token_link_rate_limited")
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
        other = links.create(platform="recall", meeting_link=links.meeting.join_url)
        assert get(links.url(other, "zak")).status_code == 200, "the rate is per link"
        assert links.uses(link)[0]["code"] == "token_link_rate_limited"
        assert links.read(link)["uses"] == 3
        links.api.close()
