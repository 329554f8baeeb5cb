"""A customer with token links: Alice connected through an app that can mint every kind of token,
a meeting she hosts and one Bob hosts, and the calls a test makes around them."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.bot_scenes import Meeting, new_meeting
from tests.support.customers import Customer, make_customer
from tests.support.stack import Stack

LINKS = "/api/v1/zoom/token-links"
ALL_SCOPES = ["user:read:user", "user:read:token", "user:read:zak", "meeting_token:read:local_recording"]


@dataclass
class LinkScene:
    customer: Customer
    alice: dict[str, Any]
    bob: dict[str, Any]
    meeting: Meeting  # hosted by Alice
    bobs_meeting: Meeting  # hosted by Bob, who is not connected

    @property
    def stack(self) -> Stack:
        return self.customer.stack

    @property
    def api(self) -> httpx.Client:
        return self.customer.api

    def create(self, **body: Any) -> dict[str, Any]:
        """A new link (201) for Alice unless ``zoom_user_id`` says otherwise."""
        response = self.api.post(LINKS, json={"zoom_user_id": self.alice["id"], **body})
        assert response.status_code == 201, response.text
        return response.json()

    def url(self, link: dict[str, Any], kind: str) -> str:
        """A link URL pointed at the test server (the link names OBFBROKER_PUBLIC_URL)."""
        return link["urls"][kind].replace(self.stack.settings.public_url, self.stack.url)

    def uses(self, link: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.api.get(f"{LINKS}/{link['id']}/uses")
        assert response.status_code == 200, response.text
        return response.json()["uses"]

    def read(self, link: dict[str, Any]) -> dict[str, Any]:
        return self.api.get(f"{LINKS}/{link['id']}").json()


def attendee_secret() -> str:
    """A webhook secret as Attendee's dashboard shows one: 32 random bytes, base64."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def link_scene(stack: Stack) -> LinkScene:
    customer = make_customer(stack, app=stack.sim.create_app(scopes=ALL_SCOPES))
    alice, bob = stack.sim.create_user("Alice"), stack.sim.create_user("Bob")
    connected = customer.connect(alice["id"])
    assert connected.status_code == 200, connected.text
    return LinkScene(customer, alice, bob, new_meeting(stack, alice["id"]), new_meeting(stack, bob["id"]))
