"""A change the dashboard refuses is shown as a page, and nothing of it is stored: the request's
transaction is rolled back before the page that explains the refusal is rendered."""

from __future__ import annotations

import html
import re

from tests.support.dashboard import Dashboard, csrf_of

DEVELOPERS = "/dashboard/developers"


def key_ids(page: str) -> list[str]:
    return re.findall(r"/dashboard/developers/keys/(key_[0-9a-f]+)/revoke", page)


def test_revoking_the_last_key_is_refused_and_the_key_keeps_working(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    session = dashboard.sign_in(acme.api_key)
    page = session.get(DEVELOPERS).text
    (only_key,) = key_ids(page)
    refused = session.post(f"{DEVELOPERS}/keys/{only_key}/revoke", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 409
    assert "last active API key" in html.unescape(refused.text)
    assert key_ids(refused.text) == [only_key], "the key is still listed as revocable"
    assert acme.api.get("/api/v1/zoom/oauth/app").status_code == 200, "the key still works for the API"
    assert session.get(DEVELOPERS).status_code == 200, "and for this dashboard session"


def test_a_refused_webhook_url_keeps_the_endpoint_as_it_was(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    session = dashboard.sign_in(acme.api_key)
    page = session.get(DEVELOPERS).text
    refused = session.post(f"{DEVELOPERS}/webhook", data={"csrf_token": csrf_of(page),
                                                          "url": "ftp://hooks.example.com/obf"})
    assert refused.status_code == 400
    assert "ftp://hooks.example.com/obf" in refused.text, "the form keeps what was typed"
    assert acme.api.get("/api/v1/webhooks").status_code == 404, "no endpoint was stored"

    stored = acme.api.put("/api/v1/webhooks", json={"url": "https://hooks.example.com/obf"})
    assert stored.status_code == 200
    before = acme.api.get("/api/v1/webhooks").json()
    page = session.get(DEVELOPERS).text
    again = session.post(f"{DEVELOPERS}/webhook", data={"csrf_token": csrf_of(page),
                                                        "url": "https://user:pw@hooks.example.com/x"})
    assert again.status_code == 400
    assert acme.api.get("/api/v1/webhooks").json() == before, "the endpoint and its secret are unchanged"
