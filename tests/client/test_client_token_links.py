"""Token links through the Python client, sync and async, against the real API and the Zoom
simulator: create one per platform, list, read, revoke, the calls a platform's bot makes to a link
URL, the errors, and the URLs (which carry the link's secret) kept out of every repr and str; and
the exact requests both clients send, without a server."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from obfbroker.client import (
    AsyncObfBrokerClient,
    NotFoundError,
    ObfBrokerClient,
    ObfBrokerError,
    Page,
    TokenLink,
    TokenLinkCreated,
    TokenLinkRevoked,
    TokenLinkUse,
    ValidationError,
)
from tests.support.customers import Customer
from tests.support.recorded_transport import Recorder

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Each platform's default token types and the URLs its links get.
PLATFORMS = {
    "meetstream": (("onbehalf", "zak"), {"obf", "zak"}),
    "recall": (("onbehalf", "zak", "local_recording"), {"obf", "zak", "join_token"}),
    "attendee": (("onbehalf", "local_recording"), {"tokens"}),
    "meetingbaas": (("onbehalf",), {"obf"}),
}


def attendee_secret() -> str:
    """An Attendee project's webhook secret as its dashboard shows one: 32 random bytes, base64."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def link_key(url: str) -> str:
    (key,) = parse_qs(urlsplit(url).query)["key"]
    return key


def on_test_server(customer: Customer, url: str) -> str:
    """A link URL pointed at the test server (links name the deployment's public URL)."""
    return url.replace(customer.stack.settings.public_url, customer.stack.url)


def texts(*objects: object) -> str:
    return "\n".join(f"{o!s}\n{o!r}" for o in objects)


def assert_no_urls(created: TokenLinkCreated, *others: object) -> None:
    """Neither the URLs nor their secret show in the repr or str of any result."""
    shown = texts(created, *others)
    assert created.urls
    for url in created.urls.values():
        assert url not in shown and link_key(url) not in shown
    assert "/token-links/" not in shown and "urls" not in shown and "?key=" not in shown


@pytest.fixture
def alice(customer: Customer) -> dict:
    user = customer.stack.sim.create_user("Alice")
    connected = customer.connect(user["id"])
    assert connected.status_code == 200, connected.text
    return user


def is_utc(value: datetime | None) -> bool:
    return value is not None and value.utcoffset() == timedelta(0)


@sqlite_only
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_create_a_link_for_each_platform(customer: Customer, obf: ObfBrokerClient, alice: dict,
                                         platform: str):
    secret = {"platform_secret": attendee_secret()} if platform == "attendee" else {}
    created = obf.create_token_link(alice["id"], platform, metadata={"team": "notes"}, **secret)
    token_types, kinds = PLATFORMS[platform]

    assert isinstance(created, TokenLinkCreated) and isinstance(created, TokenLink)
    assert created.id.startswith("tl_") and created.platform == platform
    assert created.zoom_user_id == alice["id"] and created.metadata == {"team": "notes"}
    assert created.token_types == token_types and set(created.urls) == kinds
    assert created.state == "active" and created.active and created.uses == 0
    assert created.has_platform_secret is (platform == "attendee")
    assert created.meeting_link is None and created.meeting_number is None
    assert created.expires_at is None and created.max_uses is None
    assert created.last_used_at is None and created.revoked_at is None and created.revoked_reason is None
    assert is_utc(created.created_at) and is_utc(created.updated_at)
    public = customer.stack.settings.public_url
    for kind, url in created.urls.items():
        assert url.startswith(f"{public}/token-links/{created.id}/{kind}?key=")
        assert len(link_key(url)) >= 43, "a secret of 256 bits"
    assert (created.obf_url, created.zak_url, created.join_token_url, created.tokens_url) == tuple(
        created.urls.get(kind) for kind in ("obf", "zak", "join_token", "tokens"))

    # Reads never hold the URLs: the same link, as a TokenLink.
    read = obf.get_token_link(created.id)
    assert type(read) is TokenLink and "urls" not in read.raw
    assert read == TokenLink.from_json(created.raw)
    listed = obf.list_token_links(platform=platform)
    assert list(listed) == [read]
    assert_no_urls(created, read, listed, obf)


@sqlite_only
def test_create_options_idempotency_and_refusals(customer: Customer, obf: ObfBrokerClient, alice: dict):
    meeting_link = "https://zoom.us/j/34363334431?pwd=JrgUdOBK"
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    created = obf.create_token_link(alice["id"], "recall", meeting_link=meeting_link,
                                    token_types=["onbehalf", "local_recording"], expires_at=expires_at,
                                    max_uses=5, idempotency_key="link-1")
    assert created.meeting_link == meeting_link and created.meeting_number == "34363334431"
    assert created.token_types == ("onbehalf", "local_recording")
    assert set(created.urls) == {"obf", "join_token"} and created.zak_url is None
    assert created.expires_at == expires_at and is_utc(created.expires_at)
    assert created.max_uses == 5 and created.metadata == {}

    # The same key and body answer the first link again, its URLs included.
    again = obf.create_token_link(alice["id"], "recall", meeting_link=meeting_link,
                                  token_types=["onbehalf", "local_recording"], expires_at=expires_at,
                                  max_uses=5, idempotency_key="link-1")
    assert again == created and again.urls == created.urls
    assert [link.id for link in obf.iter_token_links()] == [created.id]

    with pytest.raises(ValidationError) as err:
        obf.create_token_link(alice["id"], "attendee")
    assert err.value.status == 400 and err.value.code == "platform_secret_required"
    with pytest.raises(ValidationError) as err:
        obf.create_token_link(alice["id"], "attendee", platform_secret="c2hvcnQ=")
    assert err.value.code == "invalid_platform_secret" and "32 bytes" in err.value.detail
    with pytest.raises(ValidationError) as err:
        obf.create_token_link(alice["id"], "meetingbaas", token_types=["zak"])
    assert err.value.code == "invalid_token_types"
    with pytest.raises(ValidationError) as err:
        obf.create_token_link(alice["id"], "teams")  # type: ignore[arg-type]
    assert err.value.code == "invalid_request"
    with pytest.raises(ValidationError) as err:
        obf.create_token_link(alice["id"], "recall", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert err.value.code == "invalid_expires_at"
    with pytest.raises(NotFoundError) as err:
        obf.create_token_link("nobody123", "recall")
    assert err.value.code == "zoom_user_not_connected"
    # Refused before any request.
    with pytest.raises(ValueError, match="timezone-aware"):
        obf.create_token_link(alice["id"], "recall", expires_at=datetime.now() + timedelta(days=1))
    with pytest.raises(ValueError, match="token_types must be a list"):
        obf.create_token_link(alice["id"], "recall", token_types="zak")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="idempotency_key"):
        obf.create_token_link(alice["id"], "recall", idempotency_key="")
    assert [link.id for link in obf.iter_token_links()] == [created.id], "nothing else was created"


@sqlite_only
def test_list_filters_and_pages(customer: Customer, obf: ObfBrokerClient, alice: dict):
    bob = customer.stack.sim.create_user("Bob")
    assert customer.connect(bob["id"]).status_code == 200
    made = [obf.create_token_link(alice["id"], "recall"), obf.create_token_link(alice["id"], "meetstream"),
            obf.create_token_link(bob["id"], "recall"), obf.create_token_link(alice["id"], "meetingbaas")]
    newest_first = [link.id for link in reversed(made)]

    first = obf.list_token_links(limit=3)
    assert isinstance(first, Page) and first.has_more and [link.id for link in first] == newest_first[:3]
    assert all(type(link) is TokenLink for link in first)
    rest = obf.list_token_links(limit=3, cursor=first.next_cursor)
    assert [link.id for link in rest] == newest_first[3:] and rest.next_cursor is None
    assert [link.id for link in obf.iter_token_links(page_size=1)] == newest_first

    recall = obf.list_token_links(platform="recall")
    assert [link.id for link in recall] == [made[2].id, made[0].id]
    assert [link.id for link in obf.list_token_links(zoom_user_id=bob["id"])] == [made[2].id]
    assert [link.id for link in obf.iter_token_links(zoom_user_id=alice["id"], platform="recall",
                                                     page_size=1)] == [made[0].id]
    assert list(obf.iter_token_links(zoom_user_id="nobody123")) == []
    # The filters go with every page.
    page = obf.list_token_links(limit=1, zoom_user_id=alice["id"])
    page = obf.list_token_links(limit=1, cursor=page.next_cursor, zoom_user_id=alice["id"])
    assert [link.id for link in page] == [made[1].id]

    with pytest.raises(ValidationError) as err:
        obf.list_token_links(cursor="nope")
    assert err.value.code == "invalid_cursor"
    with pytest.raises(ValidationError) as err:
        obf.list_token_links(limit=500)
    assert err.value.code == "invalid_request"


@sqlite_only
def test_revoke_makes_the_link_answer_410(customer: Customer, obf: ObfBrokerClient, alice: dict):
    created = obf.create_token_link(alice["id"], "meetstream")
    assert httpx.get(on_test_server(customer, created.zak_url), timeout=30).status_code == 200

    revoked = obf.revoke_token_link(created.id)
    assert revoked == TokenLinkRevoked(id=created.id, message=f"Token link {created.id} revoked")
    read = obf.get_token_link(created.id)
    assert read.state == "revoked" and not read.active and read.revoked_reason == "revoked"
    assert is_utc(read.revoked_at) and read.uses == 1
    answer = httpx.get(on_test_server(customer, created.zak_url), timeout=30)
    assert answer.status_code == 410 and answer.json()["code"] == "token_link_revoked"
    # Revoking again changes nothing; the link stays listed.
    assert obf.revoke_token_link(created.id) == revoked
    assert obf.get_token_link(created.id).revoked_at == read.revoked_at
    assert list(obf.iter_token_links()) == [read]


@sqlite_only
def test_uses_record_the_platforms_calls(customer: Customer, obf: ObfBrokerClient, alice: dict):
    created = obf.create_token_link(alice["id"], "meetstream")
    assert obf.list_token_link_uses(created.id) == Page(items=(), next_cursor=None)

    # The platform's bot asks for a ZAK (no meeting needed), then for an OBF token naming no meeting.
    zak = httpx.get(on_test_server(customer, created.zak_url), headers={"X-Bot-Id": "ms_bot_1"}, timeout=30)
    assert zak.status_code == 200 and zak.headers["content-type"].startswith("text/plain") and zak.text
    obf_call = httpx.get(on_test_server(customer, created.obf_url), headers={"X-Bot-Id": "ms_bot_2"},
                         timeout=30)
    assert obf_call.status_code == 400 and obf_call.json()["code"] == "meeting_number_required"

    first = obf.list_token_link_uses(created.id, limit=1)
    assert isinstance(first, Page) and first.has_more
    (refused,) = first
    assert isinstance(refused, TokenLinkUse) and refused.refused
    assert (refused.token_type, refused.minted, refused.status, refused.code, refused.platform_bot_id) == (
        "onbehalf", (), "refused", "meeting_number_required", "ms_bot_2")
    second = obf.list_token_link_uses(created.id, limit=1, cursor=first.next_cursor)
    (minted,) = second
    assert second.next_cursor is None and not minted.refused
    assert (minted.token_type, minted.minted, minted.status, minted.code, minted.platform_bot_id) == (
        "zak", ("zak",), "minted", None, "ms_bot_1")
    assert minted.meeting_number is None and is_utc(minted.at) and minted.at <= refused.at
    assert list(obf.iter_token_link_uses(created.id, page_size=1)) == [refused, minted]

    read = obf.get_token_link(created.id)
    assert read.uses == 1, "a refused call uses nothing"
    assert is_utc(read.last_used_at)
    assert abs(read.last_used_at - minted.at) < timedelta(seconds=5)
    assert zak.text not in texts(first, second, read)
    assert_no_urls(created, read, first, second)


@sqlite_only
def test_not_found_answers_are_not_found_errors(obf: ObfBrokerClient):
    with pytest.raises(NotFoundError) as err:
        obf.get_token_link("tl_nothing")
    assert err.value.status == 404 and err.value.code == "token_link_not_found"
    assert err.value.detail == "No token link tl_nothing for this account"
    assert str(err.value) == ("404 token_link_not_found: No token link tl_nothing for this account "
                              "(GET /api/v1/zoom/token-links/tl_nothing)")
    with pytest.raises(NotFoundError) as err:
        obf.revoke_token_link("tl_nothing")
    assert err.value.code == "token_link_not_found" and err.value.method == "DELETE"
    with pytest.raises(NotFoundError) as err:
        obf.list_token_link_uses("tl_nothing")
    assert err.value.code == "token_link_not_found"
    with pytest.raises(NotFoundError) as err:
        list(obf.iter_token_link_uses("tl_nothing"))
    assert err.value.code == "token_link_not_found"
    for call in (obf.get_token_link, obf.revoke_token_link, obf.list_token_link_uses,
                 obf.iter_token_link_uses):
        with pytest.raises(ValueError, match="link_id"):
            call("")


@sqlite_only
def test_another_accounts_link_is_not_found(customer: Customer, obf: ObfBrokerClient, alice: dict):
    created = obf.create_token_link(alice["id"], "recall")
    _, other_key = customer.stack.create_account("client-other")
    with ObfBrokerClient(customer.stack.url, other_key) as other:
        with pytest.raises(NotFoundError) as err:
            other.get_token_link(created.id)
        assert err.value.code == "token_link_not_found"
        with pytest.raises(NotFoundError):
            other.revoke_token_link(created.id)
        assert list(other.iter_token_links()) == []
    assert obf.get_token_link(created.id).active


@sqlite_only
def test_the_async_client_manages_token_links(customer: Customer, alice: dict):
    async def flow() -> None:
        async with AsyncObfBrokerClient(customer.stack.url, customer.api_key) as obf:
            attendee = await obf.create_token_link(alice["id"], "attendee", platform_secret=attendee_secret(),
                                                   metadata={"bot": "standup"}, idempotency_key="a-1")
            assert isinstance(attendee, TokenLinkCreated) and set(attendee.urls) == {"tokens"}
            assert attendee.has_platform_secret and attendee.metadata == {"bot": "standup"}
            recall = await obf.create_token_link(alice["id"], "recall", token_types=["zak"])
            assert set(recall.urls) == {"zak"} and recall.token_types == ("zak",)
            assert_no_urls(attendee, recall)

            page = await obf.list_token_links(limit=1)
            assert isinstance(page, Page) and [link.id for link in page] == [recall.id] and page.has_more
            assert [link.id async for link in obf.iter_token_links(page_size=1)] == [recall.id, attendee.id]
            assert [link.id async for link in obf.iter_token_links(platform="attendee")] == [attendee.id]
            assert [link.id for link in await obf.list_token_links(zoom_user_id=alice["id"],
                                                                   platform="recall")] == [recall.id]
            read = await obf.get_token_link(attendee.id)
            assert type(read) is TokenLink and read == TokenLink.from_json(attendee.raw)

            async with httpx.AsyncClient(timeout=30) as bot:
                answer = await bot.get(on_test_server(customer, recall.zak_url))
            assert answer.status_code == 200
            uses = await obf.list_token_link_uses(recall.id)
            assert [(u.token_type, u.status) for u in uses] == [("zak", "minted")]
            assert [u async for u in obf.iter_token_link_uses(recall.id, page_size=1)] == list(uses)
            assert (await obf.get_token_link(recall.id)).uses == 1

            revoked = await obf.revoke_token_link(recall.id)
            assert revoked == TokenLinkRevoked(id=recall.id, message=f"Token link {recall.id} revoked")
            assert (await obf.get_token_link(recall.id)).state == "revoked"

            with pytest.raises(NotFoundError) as err:
                await obf.get_token_link("tl_nothing")
            assert err.value.code == "token_link_not_found"
            with pytest.raises(NotFoundError) as err:
                [u async for u in obf.iter_token_link_uses("tl_nothing")]
            assert err.value.code == "token_link_not_found"
            with pytest.raises(ValueError, match="link_id"):
                obf.iter_token_link_uses("")

    asyncio.run(flow())


# --- the requests themselves, without a server -------------------------------------------------

LINK = {"id": "tl_1", "zoom_user_id": "alice1", "platform": "recall",
        "meeting_link": "https://zoom.us/j/123456789", "meeting_number": "123456789",
        "token_types": ["onbehalf", "zak"], "expires_at": "2030-01-01T00:00:00.000Z", "max_uses": 3,
        "uses": 1, "metadata": {"team": "notes"}, "has_platform_secret": False, "state": "active",
        "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-01-02T00:00:00.000Z",
        "last_used_at": "2024-01-02T00:00:00.000Z", "revoked_at": None, "revoked_reason": None}
URLS = {"obf": "https://broker.example.com/token-links/tl_1/obf?key=s3cr3t-obf-key",
        "zak": "https://broker.example.com/token-links/tl_1/zak?key=s3cr3t-zak-key"}
USE = {"at": "2024-01-02T00:00:00.000Z", "token_type": "bundle", "minted": ["onbehalf", "local_recording"],
       "meeting_number": "123456789", "platform_bot_id": "bot_9", "status": "minted", "code": None}


def test_both_clients_send_the_same_create_request():
    sync_fake, async_fake = Recorder({**LINK, "urls": URLS}), Recorder({**LINK, "urls": URLS})
    arguments = dict(meeting_link="https://zoom.us/j/123456789", token_types=("onbehalf", "zak"),
                     expires_at=datetime(2030, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), max_uses=3,
                     metadata={"team": "notes"}, idempotency_key="key-1")
    with sync_fake.sync() as obf:
        created = obf.create_token_link("alice1", "recall", **arguments)
        minimal = obf.create_token_link("alice1", "attendee", platform_secret="c2VjcmV0")

    async def create() -> TokenLinkCreated:
        async with async_fake.asynchronous() as obf:
            return await obf.create_token_link("alice1", "recall", **arguments)

    assert asyncio.run(create()) == created
    for request in (sync_fake.requests[0], async_fake.requests[0]):
        assert request.method == "POST" and request.url.path == "/api/v1/zoom/token-links"
        assert request.headers["idempotency-key"] == "key-1"
        assert request.headers["authorization"] == "Token obf_live_k"
        assert json.loads(request.content) == {
            "zoom_user_id": "alice1", "platform": "recall", "meeting_link": "https://zoom.us/j/123456789",
            "token_types": ["onbehalf", "zak"], "expires_at": "2030-01-01T00:00:00Z", "max_uses": 3,
            "metadata": {"team": "notes"}}
    request = sync_fake.requests[1]
    assert "idempotency-key" not in request.headers
    assert json.loads(request.content) == {"zoom_user_id": "alice1", "platform": "attendee",
                                           "platform_secret": "c2VjcmV0"}

    assert created.urls == URLS and created.obf_url == URLS["obf"] and created.tokens_url is None
    assert created.token_types == ("onbehalf", "zak") and created.max_uses == 3 and created.uses == 1
    assert created.expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert created.last_used_at == datetime(2024, 1, 2, tzinfo=UTC)
    assert minimal.raw["urls"] == URLS, "raw keeps the whole answer"
    shown = texts(created, minimal)
    assert "s3cr3t" not in shown and "broker.example.com" not in shown and "urls" not in shown


def test_both_clients_list_read_revoke_and_page_uses_alike():
    answers = ({"token_links": [LINK], "next_cursor": "c1"}, {"token_links": [LINK], "next_cursor": None},
               LINK, {"message": "Token link a/b revoked", "id": "a/b"},
               {"uses": [USE], "next_cursor": "u1"}, {"uses": [USE], "next_cursor": None})
    sync_fake, async_fake = Recorder(*answers), Recorder(*answers)

    with sync_fake.sync() as obf:
        links = list(obf.iter_token_links(zoom_user_id="alice1", platform="recall", page_size=1))
        link = obf.get_token_link("a/b")
        revoked = obf.revoke_token_link("a/b")
        uses = list(obf.iter_token_link_uses("a/b", page_size=1))

    async def walk() -> tuple:
        async with async_fake.asynchronous() as obf:
            return ([x async for x in obf.iter_token_links(zoom_user_id="alice1", platform="recall",
                                                           page_size=1)],
                    await obf.get_token_link("a/b"), await obf.revoke_token_link("a/b"),
                    [u async for u in obf.iter_token_link_uses("a/b", page_size=1)])

    assert asyncio.run(walk()) == (links, link, revoked, uses)
    assert links == [TokenLink.from_json(LINK)] * 2 and link == links[0]
    assert revoked == TokenLinkRevoked(id="a/b", message="Token link a/b revoked")
    assert uses == [TokenLinkUse(at=datetime(2024, 1, 2, tzinfo=UTC), token_type="bundle",
                                 minted=("onbehalf", "local_recording"), meeting_number="123456789",
                                 platform_bot_id="bot_9", status="minted", code=None)] * 2
    for requests in (sync_fake.requests, async_fake.requests):
        seen = [(r.method, r.url.raw_path.split(b"?")[0], dict(r.url.params)) for r in requests]
        filters = {"zoom_user_id": "alice1", "platform": "recall", "limit": "1"}
        assert seen == [
            ("GET", b"/api/v1/zoom/token-links", filters),
            ("GET", b"/api/v1/zoom/token-links", {**filters, "cursor": "c1"}),
            ("GET", b"/api/v1/zoom/token-links/a%2Fb", {}),
            ("DELETE", b"/api/v1/zoom/token-links/a%2Fb", {}),
            ("GET", b"/api/v1/zoom/token-links/a%2Fb/uses", {"limit": "1"}),
            ("GET", b"/api/v1/zoom/token-links/a%2Fb/uses", {"limit": "1", "cursor": "u1"})]


def test_a_created_link_without_urls_is_an_invalid_response():
    with Recorder(LINK).sync() as obf, pytest.raises(ObfBrokerError) as err:
        obf.create_token_link("alice1", "recall")
    assert err.value.code == "invalid_response" and err.value.status == 200
