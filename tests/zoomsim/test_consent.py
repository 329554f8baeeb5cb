"""The browser consent flow at /oauth/authorize."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from obfbroker.zoomsim.seed import BOB_ID, DEMO_CLIENT_ID, DEMO_SCOPES
from tests.zoomsim.helpers import REDIRECT_URI, bearer, consent_submission, exchange, parse_form

ODD_STATE = "a b&c=d/é%2F+?#x"


def consent_page(http, **overrides):
    params = {"response_type": "code", "client_id": DEMO_CLIENT_ID,
              "redirect_uri": REDIRECT_URI, "state": ODD_STATE, **overrides}
    params = {k: v for k, v in params.items() if v is not None}
    return http.get("/oauth/authorize", params=params)


def test_consent_page_is_accessible_and_lists_active_users(http):
    http.post("/_sim/users", json={"email": "idle@example.com", "display_name": "Idle Person",
                                   "status": "inactive"})
    response = consent_page(http)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = parse_form(response.text)
    assert page.legends == ["Sign in as"]
    radios = [i for i in page.inputs if i.get("type") == "radio"]
    assert len(radios) == 3
    assert all(page.labels.get(r["id"]) for r in radios)  # every choice has a label
    assert "Alice Example (alice@example.com)" in page.labels.values()
    assert "Idle Person" not in response.text
    assert {b["value"] for b in page.buttons} == {"allow", "deny"}
    assert page.forms[0]["method"] == "post"
    assert page.forms[0]["action"] == "/oauth/authorize"
    assert '<html lang="en">' in response.text


def test_consent_page_redirects_with_state(http, base_url):
    page = consent_page(http)
    form = consent_submission(page.text, "Bob Example (bob@example.com)", "allow")
    response = http.post("/oauth/authorize", data=form)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?code=")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [ODD_STATE]
    assert "#" not in location and " " not in location  # percent-encoded

    tokens = exchange(http, query["code"][0]).json()
    assert tokens["scope"] == " ".join(DEMO_SCOPES)
    me = http.get("/v2/users/me", headers=bearer(tokens["access_token"])).json()
    assert me["id"] == BOB_ID


def test_consent_without_state_omits_state(http):
    page = consent_page(http, state=None)
    form = consent_submission(page.text, "Alice Example (alice@example.com)", "allow")
    assert "state" not in form
    location = http.post("/oauth/authorize", data=form).headers["location"]
    assert set(parse_qs(urlsplit(location).query)) == {"code"}


def test_consent_appends_to_redirect_uri_with_query(http):
    uri = "https://app.example/cb?tenant=42"
    http.post("/_sim/apps", json={"client_id": "c2", "client_secret": "s2",
                                  "redirect_uris": [uri], "scopes": ["user:read:user"]})
    page = consent_page(http, client_id="c2", redirect_uri=uri, state="xyz")
    form = consent_submission(page.text, "Alice Example (alice@example.com)", "allow")
    location = http.post("/oauth/authorize", data=form).headers["location"]
    assert location.startswith(uri + "&code=")
    assert parse_qs(urlsplit(location).query)["tenant"] == ["42"]


def test_consent_deny_redirects_with_access_denied(http, sim_state):
    page = consent_page(http)
    form = consent_submission(page.text, "Alice Example (alice@example.com)", "deny")
    response = http.post("/oauth/authorize", data=form)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query == {"error": ["access_denied"], "state": [ODD_STATE]}
    assert sim_state.grants.codes == {}


def test_authorize_rejects_redirect_uri_not_matching_byte_for_byte(http):
    for uri in (REDIRECT_URI + "/", REDIRECT_URI.upper(), REDIRECT_URI + "?x=1", None):
        response = consent_page(http, redirect_uri=uri)
        assert response.status_code == 400
        assert "Redirect URI mismatch." in response.text
        assert "4709" in response.text


def test_authorize_rejects_unknown_client_and_response_type(http):
    response = consent_page(http, client_id="nope")
    assert response.status_code == 400
    assert "Invalid client_id" in response.text
    response = consent_page(http, response_type="token")
    assert response.status_code == 400
    assert "response_type" in response.text


def test_consent_post_revalidates_client_and_redirect(http):
    form = consent_submission(consent_page(http).text, "Alice Example (alice@example.com)",
                              "allow")
    response = http.post("/oauth/authorize", data={**form, "redirect_uri": "https://evil.example/"})
    assert response.status_code == 400
    assert "Redirect URI mismatch." in response.text
    response = http.post("/oauth/authorize", data={**form, "client_id": "nope"})
    assert response.status_code == 400
    assert "Invalid client_id" in response.text


def test_consent_post_refuses_unknown_or_inactive_user(http):
    created = http.post("/_sim/users", json={"email": "p@example.com", "display_name": "P",
                                             "status": "pending"}).json()
    form = consent_submission(consent_page(http).text, "Alice Example (alice@example.com)",
                              "allow")
    for user_id in (created["id"], "ghost"):
        response = http.post("/oauth/authorize", data={**form, "user_id": user_id})
        assert response.status_code == 400


def test_consent_page_escapes_state(http):
    response = consent_page(http, state='"><script>alert(1)</script>')
    assert "<script>alert(1)" not in response.text


def test_consent_carries_pkce_challenge_through_the_form(http):
    page = consent_page(http, code_challenge="p" * 43, code_challenge_method="plain")
    form = consent_submission(page.text, "Alice Example (alice@example.com)", "allow")
    assert (form["code_challenge"], form["code_challenge_method"]) == ("p" * 43, "plain")
    location = http.post("/oauth/authorize", data=form).headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    assert exchange(http, code, code_verifier="q" * 43).status_code == 400
    assert exchange(http, code, code_verifier="p" * 43).status_code == 200


def test_authorize_rejects_unknown_pkce_method(http):
    response = consent_page(http, code_challenge="p" * 43, code_challenge_method="MD5")
    assert response.status_code == 400
