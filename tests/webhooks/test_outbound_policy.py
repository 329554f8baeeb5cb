"""Customers' URLs cannot reach into the broker's own network: every address a host resolves to
is checked when the worker connects (after DNS), so a name that points at an internal address
only after the URL was saved is refused too; nothing is sent to a refused address and nothing of
its reply is stored. Hosts the operator allows for development work over plain http; redirects
are never followed.

Names are resolved by a table the test controls (its own DNS) wherever a name must point at a
given address; the system's resolver is used for ``localhost``."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from obfbroker.outbound import OutboundPolicy, outbound_client
from obfbroker.outbox.models import WebhookEndpoint
from tests.support.customer_webhooks import Customer, Outbox, new_customer
from tests.support.servers import free_port, serve_app
from tests.support.stack import Stack
from tests.support.tls import make_certificate
from tests.support.webhook_receivers import Receiver

# Each class with addresses of it, IPv4 and IPv6, IPv4 inside IPv6 included.
REFUSED = {
    "loopback": ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::"],
    "private": ["10.0.0.1", "172.16.5.4", "192.168.1.1", "fc00::1", "fd12:3456::1", "::ffff:10.1.2.3"],
    "link_local": ["169.254.1.1", "fe80::1"],
    "shared": ["100.64.0.1", "100.127.255.254"],
    "multicast": ["224.0.0.1", "239.1.2.3", "ff02::1"],
    "unspecified": ["0.0.0.0", "::"],
    "cloud_metadata": ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "100.100.100.200"],
    "reserved": ["240.0.0.1", "192.0.2.10", "198.18.0.1", "255.255.255.255", "2001:db8::1"],
}


class Dns:
    """The test's own name service: names map to whatever addresses the test says, now."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError("no such name")
        return self.table[host]


def store_url(outbox: Outbox, account_id: str, url: str) -> None:
    """What a URL saved before this policy (or through a bug) looks like: written to the row."""
    async def work(runtime):
        async with runtime.sessions() as session:
            await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id)
                                  .values(url=url))
            await session.commit()

    outbox.run(work)


def only_attempt(customer: Customer) -> dict[str, Any]:
    deliveries = customer.deliveries()["deliveries"]
    assert len(deliveries) == 1, deliveries
    return deliveries[0]


def test_every_address_class_is_refused_when_the_worker_connects(stack: Stack, outbox: Outbox,
                                                                 receiver: Receiver):
    dns = Dns()
    port = int(receiver.url.split(":")[2].split("/")[0])  # loopback addresses reach the receiver
    cases = [(kind, address) for kind, addresses in REFUSED.items() for address in addresses]
    cases.append(("private", "8.8.8.8 10.0.0.1"))  # one internal address among public ones is enough
    customers = []
    for number, (kind, address) in enumerate(cases):
        customer = new_customer(stack, f"c{number}")
        name = f"hooks-{number}.customer.example"
        # Saved while the name means nothing yet: a save-time check could not have known.
        customer.configure(f"https://{name}:{port}/hooks/obf")
        dns.table[name] = address.split()
        outbox.emit(customer.account_id)
        customers.append((customer, kind, address))
    assert outbox.deliver(http=lambda runtime: outbound_client(runtime.outbound, timeout=5,
                                                               resolve=dns.resolve)) == len(cases)
    for customer, kind, address in customers:
        attempt = only_attempt(customer)
        assert attempt["error"] == f"refused_{kind}", (address, attempt)
        assert attempt["response_status"] is None and attempt["response_body"] is None, address
        assert attempt["succeeded"] is False and attempt["message_status"] == "pending"
    assert receiver.received == [], "nothing reached the loopback receiver"
    assert len(dns.asked) == len(cases), "every name was resolved when connecting"


def test_a_name_rebound_to_an_internal_address_after_it_worked_is_refused(stack: Stack, outbox: Outbox,
                                                                          tmp_path):
    """https://hooks.customer.example first resolves to an address the operator allowed (an
    internal relay at 127.0.0.2), then is rebound to 127.0.0.1, where another service listens."""
    name = "hooks.customer.example"
    certificate = make_certificate(tmp_path, name)
    relay, internal = Receiver(), Receiver()
    port = free_port()
    policy = OutboundPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.2/32"),))
    dns = Dns()

    def client(runtime) -> Any:
        return outbound_client(policy, timeout=5, resolve=dns.resolve, tls=certificate.client_context())

    relay_app = Starlette(routes=[Route("/{path:path}", relay.handle, methods=["POST"])])
    internal_app = Starlette(routes=[Route("/{path:path}", internal.handle, methods=["POST"])])
    with serve_app(relay_app, host="127.0.0.2", port=port, certificate=certificate), \
            serve_app(internal_app, host="127.0.0.1", port=port, certificate=certificate):
        customer = new_customer(stack)
        customer.configure(f"https://{name}:{port}/hooks/obf")
        dns.table[name] = ["127.0.0.2"]
        outbox.emit(customer.account_id, "first")
        assert outbox.deliver(http=client) == 1
        assert [r.path for r in relay.received] == ["/hooks/obf"], "the allowed relay got the first"
        dns.table[name] = ["127.0.0.1"]
        outbox.emit(customer.account_id, "second")
        assert outbox.deliver(http=client) == 1
    attempts = {d["event_type"]: d for d in customer.deliveries()["deliveries"]}
    assert attempts["first"]["succeeded"] is True and attempts["first"]["response_status"] == 200
    assert attempts["second"]["error"] == "refused_loopback"
    assert attempts["second"]["response_body"] is None
    assert internal.received == [] and len(relay.received) == 1


def test_allowed_development_hosts_work_over_plain_http_and_nothing_else_does(stack: Stack, outbox: Outbox,
                                                                              receiver: Receiver):
    port = int(receiver.url.split(":")[2].split("/")[0])
    customer = new_customer(stack)
    customer.configure(receiver.url)  # http://127.0.0.1:<port>, allowed in the tests' settings
    only_here = OutboundPolicy(allowed_hosts=frozenset({("localhost", port)}))

    def system_dns(runtime) -> Any:
        return outbound_client(only_here, timeout=5)  # the system's resolver

    # Allowed by name and port: reached through the system's resolver, plain http.
    store_url(outbox, customer.account_id, f"http://localhost:{port}/hooks/obf")
    outbox.emit(customer.account_id, "by_name")
    outbox.deliver(http=system_dns)
    assert [r.path for r in receiver.received] == ["/hooks/obf"]
    # Another host or port than the one the operator allowed: https is required, and the name's
    # address (loopback, from the system's resolver) is refused.
    for url, refusal in ((f"http://127.0.0.1:{port}/hooks/obf", "refused_plain_http"),
                         (f"https://localhost:{port + 1}/hooks/obf", "refused_loopback"),
                         (f"https://127.0.0.1:{port}/hooks/obf", "refused_loopback")):
        store_url(outbox, customer.account_id, url)
        outbox.emit(customer.account_id, refusal + url[:5])
        outbox.deliver(http=system_dns)
        attempts = customer.deliveries()["deliveries"]
        attempt = next(d for d in attempts if d["event_type"] == refusal + url[:5])
        assert attempt["error"] == refusal, (url, attempt)
    assert len(receiver.received) == 1, "only the allowed host was reached"


def test_redirects_are_answers_never_followed(stack: Stack, outbox: Outbox):
    inside = Receiver()
    redirected_to: list[str] = []

    async def redirect(request: Request) -> Response:
        redirected_to.append(request.url.path)
        return Response("moved", status_code=307, headers={"Location": f"{inside.url}/internal/metrics"})

    inside_app = Starlette(routes=[Route("/{path:path}", inside.handle, methods=["POST", "GET"])])
    hop = Starlette(routes=[Route("/{path:path}", redirect, methods=["POST"])])
    with serve_app(inside_app) as inside_url, serve_app(hop) as hop_url:
        inside.url = inside_url
        customer = new_customer(stack)
        customer.configure(f"{hop_url}/hooks/obf")
        outbox.emit(customer.account_id)
        assert outbox.deliver() == 1
    attempt = only_attempt(customer)
    assert attempt["response_status"] == 307 and attempt["error"] == "http_307"
    assert redirected_to == ["/hooks/obf"] and inside.received == [], "the Location was not visited"
