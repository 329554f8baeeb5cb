"""Every exception class from a real error answer, the API key kept out of every text, and no
retries made behind the caller's back."""

from __future__ import annotations

import threading

import httpx
import pytest

from obfbroker.app import create_app
from obfbroker.client import (
    AuthenticationError,
    ConflictError,
    InvalidApiKeyError,
    NotFoundError,
    ObfBrokerClient,
    ObfBrokerError,
    ServiceUnavailableError,
    TransportError,
    ValidationError,
)
from obfbroker_client.errors import parse_retry_after
from tests.support.customers import Customer
from tests.support.held import held_upstream
from tests.support.servers import free_port, serve_app
from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack, make_settings

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def texts(*objects: object) -> str:
    return "\n".join(f"{o!s}\n{o!r}" for o in objects)


def assert_keyless(key: str, exc: ObfBrokerError, *others: object) -> None:
    everything = texts(exc, exc.args, exc.body, exc.detail, *others)
    assert key not in everything
    assert key[-12:] not in everything


@sqlite_only
def test_a_wrong_key_is_an_invalid_api_key_error_that_never_shows_the_key(customer: Customer):
    wrong = customer.api_key + "x"
    with ObfBrokerClient(customer.stack.url, wrong) as obf, pytest.raises(InvalidApiKeyError) as err:
        obf.list_connections()
    exc = err.value
    assert isinstance(exc, AuthenticationError) and isinstance(exc, ObfBrokerError)
    assert (exc.status, exc.code) == (403, "invalid_api_key")
    assert exc.detail.startswith("The API key was received but rejected")
    assert exc.message == exc.detail and exc.retry_after is None
    assert exc.method == "GET" and exc.path == "/api/v1/zoom/oauth/connections"
    assert_keyless(wrong, exc, obf)
    assert_keyless(customer.api_key, exc, obf)
    assert repr(obf) == f"ObfBrokerClient(base_url={customer.stack.url!r}, api_key='***')"


@sqlite_only
def test_not_found_answers(obf: ObfBrokerClient):
    with pytest.raises(NotFoundError) as err:
        obf.get_connection("nobody123")
    assert err.value.status == 404 and err.value.code == "zoom_user_not_connected"
    assert err.value.detail == "Zoom user nobody123 is not connected for this account"
    assert str(err.value) == ("404 zoom_user_not_connected: Zoom user nobody123 is not connected for this "
                              "account (GET /api/v1/zoom/oauth/connections/nobody123)")
    with pytest.raises(NotFoundError) as err:
        obf.get_bot("bot_nope")
    assert err.value.code == "bot_not_found" and err.value.detail == "Bot bot_nope not found"
    with pytest.raises(NotFoundError) as err:
        obf.delete_connection("nobody123")
    assert err.value.code == "zoom_user_not_connected"
    with pytest.raises(NotFoundError) as err:
        obf.get_webhook()
    assert err.value.code == "webhook_not_configured"
    with pytest.raises(NotFoundError) as err:
        obf.retry_webhook_delivery("msg_nope")
    assert err.value.code == "webhook_message_not_found"
    with pytest.raises(ValueError, match="bot_id"):
        obf.get_bot("")


@sqlite_only
def test_validation_errors_carry_the_api_code_and_the_guide_message(customer: Customer, obf: ObfBrokerClient):
    with pytest.raises(ValidationError) as err:
        obf.authorize_url("http://customer.example.com/zoom/oauth/callback")
    assert err.value.status == 400 and err.value.code == "invalid_redirect_uri"
    assert "plain http is allowed only for localhost" in err.value.detail

    with pytest.raises(ValidationError) as err:
        obf.create_bot("https://zoom.us/j/123456789?pwd=abc", use_zoom_obf=True)
    assert err.value.code == "zoom_oauth_connection_user_id_required"
    assert err.value.detail == "zoom.zoom_oauth_connection_user_id is required when zoom.use_zoom_obf=true"
    assert err.value.body["message"] == err.value.detail

    with pytest.raises(ValidationError) as err:
        obf.create_bot("https://zoom.us/j/123456789?pwd=abc", use_zoom_obf=True,
                       zoom_oauth_connection_user_id="nobody123")
    assert err.value.code == "no_zoom_users_connected"
    assert err.value.detail == "No Zoom users connected for this account"

    with pytest.raises(ValidationError) as err:
        obf.create_connection("not-a-real-code", REDIRECT_URI)
    assert err.value.code == "zoom_code_rejected"
    assert "Confirm the three redirect_uri strings match" in err.value.detail

    with pytest.raises(ValidationError) as err:
        obf.list_connections(limit=500)
    assert err.value.code == "invalid_request"
    assert_keyless(customer.api_key, err.value, obf)


@sqlite_only
def test_zoom_unavailable_is_a_503_with_retry_after_and_a_retry_works(customer: Customer,
                                                                      obf: ObfBrokerClient):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    sim.faults(rate_5xx=1.0)
    try:
        with pytest.raises(ServiceUnavailableError) as err:
            obf.create_connection(code, REDIRECT_URI)
    finally:
        sim.faults(rate_5xx=0.0)
    exc = err.value
    assert exc.status == 503 and exc.code == "zoom_unavailable"
    assert exc.retry_after is not None and exc.retry_after >= 1
    assert exc.detail == "Zoom is unavailable or rate limiting us; retry later"
    assert_keyless(customer.api_key, exc)
    # The failed call left nothing behind: retrying it (as the caller decides) completes the flow.
    assert obf.create_connection(code, REDIRECT_URI).zoom_user_id == alice["id"]


@sqlite_only
def test_a_duplicate_exchange_still_in_progress_is_a_409_conflict(customer: Customer, obf: ObfBrokerClient):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    first: dict[str, object] = {}
    with held_upstream(sim.url, "/oauth/token") as (zoom_oauth_url, zoom):
        # A server of its own, whose code exchanges Zoom answers only when the test says so, and
        # which waits 0.2 s, not 30, for the first attempt with the same code.
        settings = make_settings(customer.stack.settings.database_url, sim, zoom_oauth_url=zoom_oauth_url,
                                 duplicate_request_wait_seconds=0.2)
        with serve_app(create_app(settings)) as url, ObfBrokerClient(url, customer.api_key) as impatient:
            def exchange() -> None:
                with ObfBrokerClient(url, customer.api_key) as other:
                    first["connection"] = other.create_connection(code, REDIRECT_URI)

            thread = threading.Thread(target=exchange)
            thread.start()
            zoom.wait_for_arrival("the first call claims the code, then asks Zoom")
            try:
                with pytest.raises(ConflictError) as err:
                    impatient.create_connection(code, REDIRECT_URI)
            finally:
                zoom.open()
                thread.join(timeout=30)
    assert zoom.arrivals == 1, "the second call never reached Zoom"
    assert err.value.status == 409 and err.value.code == "code_exchange_in_progress"
    assert err.value.retry_after == 2
    # Retrying after Retry-After answers the connection the first call made.
    assert obf.create_connection(code, REDIRECT_URI) == first["connection"]


def test_no_answer_is_a_transport_error_without_the_key():
    key = "obf_live_" + "k" * 40
    obf = ObfBrokerClient(f"http://127.0.0.1:{free_port()}", key, timeout=5)
    with obf, pytest.raises(TransportError) as err:
        obf.get_zoom_app()
    assert err.value.status is None and err.value.code == "transport_error"
    assert "Request to obfbroker at http://127.0.0.1:" in err.value.detail
    assert_keyless(key, err.value)


class Recorder:
    """A fake obfbroker: answers ``responses`` in order, recording every request."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self, key: str = "obf_live_secretkey") -> ObfBrokerClient:
        return ObfBrokerClient("https://broker.example.com/", key, transport=httpx.MockTransport(self))


def unavailable() -> httpx.Response:
    body = {"detail": "Zoom is unavailable or rate limiting us; retry later", "code": "zoom_unavailable",
            "message": "Zoom is unavailable or rate limiting us; retry later"}
    return httpx.Response(503, json=body, headers={"Retry-After": "7"})


@pytest.mark.parametrize("call", [
    lambda c: c.create_connection("code", REDIRECT_URI),
    lambda c: c.create_bot("https://zoom.us/j/123456789"),
    lambda c: c.leave_bot("bot_1"),
    lambda c: c.get_bot("bot_1"),
    lambda c: c.list_connections(),
], ids=["create_connection", "create_bot", "leave_bot", "get_bot", "list_connections"])
def test_the_client_never_retries_by_itself(call):
    fake = Recorder(unavailable())
    with fake.client() as obf, pytest.raises(ServiceUnavailableError) as err:
        call(obf)
    assert len(fake.requests) == 1
    assert err.value.retry_after == 7.0 and err.value.code == "zoom_unavailable"

    fake = Recorder(httpx.ReadTimeout("timed out"))
    with fake.client() as obf, pytest.raises(TransportError) as err:
        call(obf)
    assert len(fake.requests) == 1 and err.value.code == "timeout"


def test_requests_carry_the_key_and_encode_ids():
    answer = {"message": "Zoom user a/b disconnected", "zoom_user_id": "a/b"}
    fake = Recorder(httpx.Response(200, json=answer))
    with fake.client("obf_live_abc") as obf:
        assert obf.delete_connection("a/b").zoom_user_id == "a/b"
    request = fake.requests[0]
    assert request.headers["authorization"] == "Token obf_live_abc"
    assert request.method == "DELETE"
    assert request.url.raw_path == b"/api/v1/zoom/oauth/connections/a%2Fb"


def test_answers_that_are_not_the_error_body_still_raise_typed_errors():
    html = httpx.Response(502, html="<html><body><h1>502 Bad Gateway</h1></body></html>")
    with Recorder(html).client() as obf, pytest.raises(ServiceUnavailableError) as err:
        obf.get_zoom_app()
    assert err.value.status == 502 and err.value.code == "http_502"
    assert err.value.detail == "HTTP 502 Bad Gateway" and err.value.retry_after is None

    teapot = httpx.Response(418, text="short and stout")
    with Recorder(teapot).client() as obf, pytest.raises(ObfBrokerError) as err:
        obf.get_zoom_app()
    assert type(err.value) is ObfBrokerError and err.value.code == "http_418"
    assert "short and stout" in err.value.detail

    garbage = httpx.Response(200, text="not json")
    with Recorder(garbage).client() as obf, pytest.raises(ObfBrokerError) as err:
        obf.get_zoom_app()
    assert err.value.code == "invalid_response" and err.value.status == 200


def test_an_echoed_key_is_scrubbed_from_errors():
    key = "obf_live_echoed_key_value"
    echo = httpx.Response(401, json={"detail": f"bad key {key}", "code": "invalid_api_key",
                                     "message": f"bad key {key}"})
    with Recorder(echo).client(key) as obf, pytest.raises(AuthenticationError) as err:
        obf.get_zoom_app()
    assert_keyless(key, err.value)
    assert err.value.detail == "bad key ***"


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == 60.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=40.0) == 0.0


def test_constructor_checks_and_repr_hide_the_key():
    with pytest.raises(ValueError, match="api_key is required") as err:
        ObfBrokerClient("http://127.0.0.1:8000", "")
    with pytest.raises(ValueError) as err:
        ObfBrokerClient("http://127.0.0.1:8000", "obf_live_a b")
    assert "obf_live_a" not in str(err.value)
    with pytest.raises(ValueError, match="base_url"):
        ObfBrokerClient("", "obf_live_abc")
    obf = ObfBrokerClient("http://127.0.0.1:8000/", "obf_live_abc")
    assert "obf_live_abc" not in repr(obf) and "obf_live_abc" not in str(obf)
    assert obf.base_url == "http://127.0.0.1:8000"
    obf.close()


@sqlite_only
def test_results_never_show_the_key_or_the_webhook_secret(stack: Stack, obf: ObfBrokerClient):
    endpoint = obf.put_webhook("https://customer.example.com/obfbroker/events")
    assert endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.secret not in repr(endpoint) and endpoint.secret not in str(endpoint)
    assert obf._api_key not in repr(endpoint) + repr(obf)
