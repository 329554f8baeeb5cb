"""GET /api/v1/zoom/oauth/connections with filters: email prefix, Zoom account, metadata,
creation time; AND-ed, paged by cursor, each bad value a 400 of its own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.support.customers import Customer, make_customer
from tests.support.errors import assert_error

CONNECTIONS = "/api/v1/zoom/oauth/connections"


def zoom_user(customer: Customer, email: str, zoom_account_id: str = "zacct-main") -> str:
    """A Zoom user at the simulator with exactly this email and Zoom account; its id."""
    created = customer.stack.sim._ok(customer.stack.sim.http.post("/_sim/users", json={
        "email": email, "display_name": email.split("@")[0], "account_id": zoom_account_id}))
    return created["id"]


def connected(customer: Customer, email: str, *, zoom_account_id: str = "zacct-main",
              metadata: Any = None) -> dict[str, Any]:
    response = customer.connect(zoom_user(customer, email, zoom_account_id), metadata=metadata)
    assert response.status_code == 200, response.text
    return response.json()


def listed(customer: Customer, **params: Any) -> list[str]:
    """The emails of the one page the filters answer, in the order listed."""
    response = customer.api.get(CONNECTIONS, params=params)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [c["email"] for c in response.json()["connections"]]


def test_email_is_a_case_insensitive_prefix_with_no_wildcards(customer: Customer):
    for email in ("Ann.Lee+1@Example.com", "ann.lee_2@example.com", "annabel@example.com",
                  "bob%ann@example.com"):
        connected(customer, email)
    assert listed(customer, email="ANN.LEE") == ["ann.lee_2@example.com", "Ann.Lee+1@Example.com"]
    assert listed(customer, email="ann.lee_") == ["ann.lee_2@example.com"], "_ is not a wildcard"
    assert listed(customer, email="ann.lee+1@example.COM") == ["Ann.Lee+1@Example.com"]
    assert listed(customer, email="bob%") == ["bob%ann@example.com"], "% is not a wildcard"
    assert listed(customer, email="%") == []
    assert listed(customer, email="ann") == ["annabel@example.com", "ann.lee_2@example.com",
                                             "Ann.Lee+1@Example.com"]
    assert listed(customer, email="example.com") == [], "a prefix, not a substring"


def test_zoom_account_id_is_an_exact_match(customer: Customer):
    connected(customer, "a@example.com", zoom_account_id="zacct-1")
    connected(customer, "b@example.com", zoom_account_id="zacct-10")
    connected(customer, "c@example.com", zoom_account_id="zacct-1")
    assert listed(customer, zoom_account_id="zacct-1") == ["c@example.com", "a@example.com"]
    assert listed(customer, zoom_account_id="zacct-10") == ["b@example.com"]
    assert listed(customer, zoom_account_id="ZACCT-1") == []
    assert listed(customer, zoom_account_id="zacct") == []


def test_metadata_matches_top_level_scalars_as_text(customer: Customer):
    connected(customer, "a@example.com", metadata={
        "tenant": "t-1", "seats": 5, "ratio": 0.5, "vip": True, "team": None,
        "tags": ["x"], "nested": {"tenant": "t-9"}, "long": "x" * 501})
    connected(customer, "b@example.com", metadata={"tenant": "t-2", "seats": 50, "vip": False})
    connected(customer, "c@example.com")
    assert listed(customer, **{"metadata.tenant": "t-1"}) == ["a@example.com"]
    assert listed(customer, **{"metadata.seats": "5"}) == ["a@example.com"]
    assert listed(customer, **{"metadata.ratio": "0.5"}) == ["a@example.com"]
    assert listed(customer, **{"metadata.vip": "true"}) == ["a@example.com"]
    assert listed(customer, **{"metadata.vip": "false"}) == ["b@example.com"]
    assert listed(customer, **{"metadata.team": "null"}) == ["a@example.com"]
    assert listed(customer, **{"metadata.tenant": "T-1"}) == [], "values match exactly"
    assert listed(customer, **{"metadata.nested": "t-9"}) == [], "objects are not searchable"
    assert listed(customer, **{"metadata.nested.tenant": "t-9"}) == [], "only top-level keys"
    assert listed(customer, **{"metadata.tags": "x"}) == []
    assert listed(customer, **{"metadata.long": "x" * 500}) == []
    assert listed(customer, **{"metadata.missing": "t-1"}) == []


def test_reauthorizing_with_new_metadata_moves_the_match(customer: Customer):
    alice = zoom_user(customer, "alice@example.com")
    assert customer.connect(alice, metadata={"tenant": "t-1", "plan": "pro"}).status_code == 200
    assert customer.connect(alice, metadata={"tenant": "t-2"}).status_code == 200
    assert listed(customer, **{"metadata.tenant": "t-1"}) == []
    assert listed(customer, **{"metadata.plan": "pro"}) == []
    assert listed(customer, **{"metadata.tenant": "t-2"}) == ["alice@example.com"]
    assert customer.connect(alice).status_code == 200, "no metadata: the stored one is kept"
    assert listed(customer, **{"metadata.tenant": "t-2"}) == ["alice@example.com"]


def test_created_after_and_before_compare_with_the_shown_timestamps(customer: Customer):
    made = [connected(customer, f"u{i}@example.com") for i in range(4)]
    stamps = [c["created_at"] for c in made]
    assert listed(customer, created_after=stamps[1]) == ["u3@example.com", "u2@example.com"]
    assert listed(customer, created_before=stamps[2]) == ["u1@example.com", "u0@example.com"]
    assert listed(customer, created_after=stamps[0], created_before=stamps[3]) == [
        "u2@example.com", "u1@example.com"]
    assert listed(customer, created_after=stamps[3]) == []
    first = datetime.fromisoformat(stamps[0].replace("Z", "+00:00"))
    in_paris = (first - timedelta(milliseconds=1)).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert len(listed(customer, created_after=in_paris)) == 4, "any offset, sent as %2B"
    assert listed(customer, created_before=stamps[0].replace("Z", "z")) == []


def test_filters_combine_with_and(customer: Customer):
    connected(customer, "ann@a.example", zoom_account_id="zacct-a", metadata={"tier": "gold"})
    connected(customer, "ann@b.example", zoom_account_id="zacct-b", metadata={"tier": "gold"})
    connected(customer, "ann@c.example", zoom_account_id="zacct-a", metadata={"tier": "free"})
    connected(customer, "bob@a.example", zoom_account_id="zacct-a", metadata={"tier": "gold",
                                                                            "region": "eu"})
    assert listed(customer, email="ann", zoom_account_id="zacct-a", **{"metadata.tier": "gold"}) == [
        "ann@a.example"]
    assert listed(customer, zoom_account_id="zacct-a", **{"metadata.tier": "gold"}) == [
        "bob@a.example", "ann@a.example"]
    assert listed(customer, **{"metadata.tier": "gold", "metadata.region": "eu"}) == ["bob@a.example"]
    assert listed(customer, state="connected", email="bob") == ["bob@a.example"]
    assert listed(customer, state="disconnected", email="bob") == []


def test_the_cursor_pages_through_the_filtered_rows(customer: Customer):
    for i in range(7):
        connected(customer, f"{'match' if i % 3 else 'other'}{i}@example.com",
                  metadata={"group": "g" if i % 3 else "h"})
    filters = {"email": "MATCH", "metadata.group": "g"}
    seen, cursor, pages = [], None, 0
    while True:
        params = {**filters, "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = customer.api.get(CONNECTIONS, params=params).json()
        seen += [c["email"] for c in body["connections"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["match5@example.com", "match4@example.com", "match2@example.com",
                    "match1@example.com"]
    assert pages == 2


def test_filters_never_reach_another_account(customer: Customer):
    connected(customer, "mine@example.com", zoom_account_id="zacct-shared", metadata={"t": "1"})
    other = make_customer(customer.stack, name="other")
    connected(other, "theirs@example.com", zoom_account_id="zacct-shared", metadata={"t": "1"})
    assert listed(customer, zoom_account_id="zacct-shared") == ["mine@example.com"]
    assert listed(customer, **{"metadata.t": "1"}) == ["mine@example.com"]
    assert listed(customer, email="theirs") == []
    assert listed(other, **{"metadata.t": "1"}) == ["theirs@example.com"]
    other.api.close()


@pytest.mark.parametrize(("params", "code", "fragment"), [
    ({"email": ""}, "invalid_email_filter", "email must be 1 to 320 characters"),
    ({"email": "a" * 321}, "invalid_email_filter", "email must be 1 to 320 characters"),
    ({"zoom_account_id": ""}, "invalid_zoom_account_id_filter", "zoom_account_id must be"),
    ({"created_after": "yesterday"}, "invalid_timestamp", "created_after must be an RFC 3339"),
    ({"created_after": "2026-12-01T15:00:00"}, "invalid_timestamp", "with an offset"),
    ({"created_before": "2026-12-01"}, "invalid_timestamp", "created_before must be an RFC 3339"),
    ({"created_before": "2026-02-30T15:00:00Z"}, "invalid_timestamp", "created_before"),
    ({"created_after": "2026-12-01T15:00:00 01:00"}, "invalid_timestamp", "send + as %2B"),
    ({"metadata.": "x"}, "invalid_metadata_filter", "keys must be 1 to 200 characters"),
    ({"metadata." + "k" * 201: "x"}, "invalid_metadata_filter", "keys must be 1 to 200"),
    ({"metadata.k": "v" * 501}, "invalid_metadata_filter", "at most 500 characters"),
    ({f"metadata.k{i}": "v" for i in range(6)}, "invalid_metadata_filter", "at most 5"),
    ({"state": "deleted"}, "invalid_state_filter", "state must be connected or disconnected"),
    ({"cursor": "not-a-cursor", "email": "a"}, "invalid_cursor", "cursor is not valid"),
])
def test_bad_filter_values_are_400s_naming_the_filter(customer: Customer, params, code, fragment):
    assert_error(customer.api.get(CONNECTIONS, params=params), 400, code, fragment)


def test_five_metadata_filters_are_allowed(customer: Customer):
    metadata = {f"k{i}": f"v{i}" for i in range(5)}
    connected(customer, "five@example.com", metadata=metadata)
    assert listed(customer, **{f"metadata.{k}": v for k, v in metadata.items()}) == [
        "five@example.com"]
