"""PUT / GET / DELETE /api/v1/webhooks: the secret is shown once, input is checked, and every
route is authenticated and scoped to the account."""

from __future__ import annotations

from tests.support.customer_webhooks import DELIVERIES, WEBHOOKS, Customer, new_customer
from tests.support.stack import Stack


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["detail"] == body["message"], body
    return body


def test_put_get_delete_and_the_secret_is_shown_only_by_put(stack: Stack):
    customer = new_customer(stack)
    api = customer.api
    assert_error(api.get(WEBHOOKS), 404, "webhook_not_configured")
    assert_error(api.delete(WEBHOOKS), 404, "webhook_not_configured")

    first = api.put(WEBHOOKS, json={"url": "https://hooks.example.com/obf"})
    assert first.status_code == 200, first.text
    created = first.json()
    assert set(created) == {"url", "secret", "created_at", "updated_at"}
    assert created["url"] == "https://hooks.example.com/obf"
    assert created["secret"].startswith("whsec_") and len(created["secret"]) == len("whsec_") + 32

    read = api.get(WEBHOOKS)
    assert read.status_code == 200
    assert read.json() == {"url": created["url"], "created_at": created["created_at"],
                           "updated_at": created["updated_at"]}

    # Every PUT rotates the secret; the endpoint keeps its created_at.
    second = api.put(WEBHOOKS, json={"url": "https://hooks.example.com/v2"}).json()
    assert second["secret"] != created["secret"]
    assert second["created_at"] == created["created_at"]
    assert second["updated_at"] >= created["updated_at"]
    again = api.get(WEBHOOKS).json()
    assert again["url"] == "https://hooks.example.com/v2" and "secret" not in again
    for secret in (created["secret"], second["secret"]):
        assert secret not in read.text + api.get(WEBHOOKS).text + api.get(DELIVERIES).text

    assert api.delete(WEBHOOKS).status_code == 204
    assert_error(api.get(WEBHOOKS), 404, "webhook_not_configured")


ACCEPTED = [
    "https://hooks.example.com/obf?x=1",
    "https://hooks.example.com:8443/",
    "http://127.0.0.1:9000/hooks",  # the tests' deployment allows 127.0.0.1 for development
    "HTTPS://Hooks.Example.com/x",
]
REJECTED = [
    ({"url": "http://hooks.example.com/obf"}, "invalid_webhook_url"),
    ({"url": "http://10.0.0.5/obf"}, "invalid_webhook_url"),
    ({"url": "http://localhost:8080/hooks"}, "invalid_webhook_url"),  # only hosts the operator names
    ({"url": "http://[::1]:9000/hooks"}, "invalid_webhook_url"),
    ({"url": "https://localhost/hooks"}, "invalid_webhook_url"),
    ({"url": "https://10.0.0.5/obf"}, "invalid_webhook_url"),
    ({"url": "https://169.254.169.254/latest/meta-data/"}, "invalid_webhook_url"),
    ({"url": "ftp://hooks.example.com/obf"}, "invalid_webhook_url"),
    ({"url": "hooks.example.com/obf"}, "invalid_webhook_url"),
    ({"url": "https://"}, "invalid_webhook_url"),
    ({"url": "https://user:pass@hooks.example.com/"}, "invalid_webhook_url"),
    ({"url": "https://hooks.example.com/a b"}, "invalid_webhook_url"),
    ({"url": "https://hooks.example.com/a\nb"}, "invalid_webhook_url"),
    ({"url": "https://hooks.example.com:99999/"}, "invalid_webhook_url"),
    ({"url": "https://hooks\ue000.example.com/"}, "invalid_webhook_url"),  # no IDNA form
    ({"url": "https://hooks.example.com/" + "a" * 2030}, "invalid_request"),
    ({"url": ""}, "invalid_request"),
    ({"url": 42}, "invalid_request"),
    ({}, "invalid_request"),
    ({"url": "https://hooks.example.com/", "events": ["*"]}, "invalid_request"),
]


def test_accepted_urls(stack: Stack):
    customer = new_customer(stack)
    for url in ACCEPTED:
        response = customer.api.put(WEBHOOKS, json={"url": url})
        assert response.status_code == 200, (url, response.text)
        assert response.json()["url"] == url


def test_invalid_bodies_are_400s_and_change_nothing(stack: Stack):
    customer = new_customer(stack)
    assert customer.api.put(WEBHOOKS, json={"url": "https://hooks.example.com/kept"}).status_code == 200
    for body, code in REJECTED:
        error = assert_error(customer.api.put(WEBHOOKS, json=body), 400, code)
        assert "pass@" not in error["detail"]
    assert customer.api.get(WEBHOOKS).json()["url"] == "https://hooks.example.com/kept"
    assert_error(customer.api.put(WEBHOOKS, content=b"not json",
                                  headers={"content-type": "application/json"}), 400, "invalid_request")


def test_the_longest_accepted_url_is_2048_characters(stack: Stack):
    customer = new_customer(stack)
    base = "https://hooks.example.com/"
    url = base + "a" * (2048 - len(base))
    assert customer.api.put(WEBHOOKS, json={"url": url}).status_code == 200
    assert_error(customer.api.put(WEBHOOKS, json={"url": url + "a"}), 400, "invalid_request")


def test_every_route_needs_an_api_key(stack: Stack):
    with stack.client() as anonymous, stack.client("obf_live_not-a-real-key") as wrong:
        for client, status in ((anonymous, 401), (wrong, 403)):
            calls = [client.put(WEBHOOKS, json={"url": "https://hooks.example.com/"}), client.get(WEBHOOKS),
                     client.delete(WEBHOOKS), client.get(DELIVERIES),
                     client.post(f"{DELIVERIES}/msg_123/retry")]
            for response in calls:
                assert response.status_code == status, response.text


def test_accounts_never_see_each_others_endpoint_or_messages(stack: Stack, customer: Customer, outbox):
    other = new_customer(stack, "other")
    assert_error(other.api.get(WEBHOOKS), 404, "webhook_not_configured")
    assert_error(other.api.delete(WEBHOOKS), 404, "webhook_not_configured")
    assert customer.api.get(WEBHOOKS).status_code == 200, "the other account's DELETE touched nothing"

    message_id = outbox.emit(customer.account_id)
    assert outbox.deliver() == 1
    assert other.deliveries() == {"deliveries": [], "next_cursor": None}
    assert_error(other.api.post(f"{DELIVERIES}/{message_id}/retry"), 404, "webhook_message_not_found")
    assert_error(customer.api.post(f"{DELIVERIES}/msg_unknown/retry"), 404, "webhook_message_not_found")
    assert [d["message_id"] for d in customer.deliveries()["deliveries"]] == [message_id]
