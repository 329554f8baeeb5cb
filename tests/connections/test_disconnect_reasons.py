"""Every disconnect reason carries its ``last_error`` message and its ``reconnect_hint`` on the
enum itself, and each reason Zoom can give reaches the API through the real path (a refused
refresh, the deauthorization event, a deleted user) with both, never a KeyError mid-refresh."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import pytest

from obfbroker.connections.health import RECONNECT_URL, disconnect_failure
from obfbroker.connections.models import DisconnectReason
from obfbroker.connections.schemas import LastErrorCode
from tests.support.bot_scenes import expire_stored_access_token, fetch_token
from tests.support.connection_scenes import connection, hosted_bot_spec, unique_user, with_webhooks
from tests.support.customers import Customer
from tests.support.errors import assert_error
from tests.support.zoom_events import point_sim_app_at_us


def test_every_reason_has_a_message_and_a_hint_naming_the_next_step():
    for reason in DisconnectReason:
        assert reason.message.strip() and reason.hint.strip(), reason
        assert disconnect_failure(reason).message == reason.message
        assert disconnect_failure(reason).code == reason.value
        hint = reason.hint.format(link=RECONNECT_URL.format(id="u1"), id="u1")
        assert "POST /api/v1/zoom/oauth/connections/u1/reconnect-url" in hint, reason
        assert "{" not in hint, f"{reason}: a placeholder the hint's formatting does not fill"
        assert reason.value in get_args(LastErrorCode), f"{reason} missing from last_error.code"


def refuse_refresh(customer: Customer, user: dict) -> None:
    """Zoom answers our refresh with invalid_grant: the user's grant is revoked at Zoom."""
    stack = customer.stack
    spec = hosted_bot_spec(customer, user)
    stack.sim.revoke_user(user["id"])
    expire_stored_access_token(stack, customer.account_id, user["id"])
    assert_error(fetch_token(stack, spec), 409, "zoom_user_disconnected")


def deauthorize_app(customer: Customer, user: dict) -> None:
    """The user removes the app; Zoom sends its signed app_deauthorized event."""
    point_sim_app_at_us(customer)
    sim = customer.stack.sim
    sim._ok(sim.http.post(f"/_sim/users/{user['id']}/deauthorize",
                          json={"client_id": customer.app.client_id}))


def delete_at_zoom(customer: Customer, user: dict) -> None:
    """The user is deleted at Zoom; a mint with our unexpired token gets 404, code 1001."""
    stack = customer.stack
    spec = hosted_bot_spec(customer, user)
    stack.sim._ok(stack.sim.http.delete(f"/_sim/users/{user['id']}"))
    assert_error(fetch_token(stack, spec), 409, "zoom_user_disconnected")


PRODUCERS: dict[DisconnectReason, Callable[[Customer, dict], None]] = {
    DisconnectReason.REFRESH_TOKEN_INVALID: refuse_refresh,
    DisconnectReason.APP_DEAUTHORIZED: deauthorize_app,
    DisconnectReason.DELETED_AT_ZOOM: delete_at_zoom,
}


def test_every_reason_has_a_way_zoom_gives_it_here():
    assert set(PRODUCERS) == set(DisconnectReason), "add how the simulator produces the new reason"


@pytest.mark.parametrize("reason", list(DisconnectReason), ids=str)
def test_zoom_giving_the_reason_records_its_message_and_hint(customer: Customer, reason: DisconnectReason):
    with_webhooks(customer)
    user = unique_user(customer.stack)
    assert customer.connect(user["id"]).status_code == 200

    PRODUCERS[reason](customer, user)

    got = connection(customer, user["id"])
    assert got["state"] == "disconnected" and got["disconnected_reason"] == reason.value
    assert got["last_error"]["code"] == reason.value
    assert got["last_error"]["message"] == reason.message
    link = RECONNECT_URL.format(id=user["id"])
    assert got["reconnect_hint"] == reason.hint.format(link=link, id=user["id"])
