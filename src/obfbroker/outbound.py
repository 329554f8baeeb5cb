"""Where obfbroker may send a request on a customer's behalf: one policy for every URL a customer
gives us that we connect to (the webhook endpoint, a bot's ``callback_url``, a bot's own
``obf_url`` / ``zak_url``, and any such URL added later).

- **https only**, except to the hosts the operator allows for development
  (``OBFBROKER_OUTBOUND_ALLOWED_HOSTS``; ``obfbroker dev`` allows its own loopback ports): a URL
  to such a host may use plain http and may reach whatever address the host has.
- **Public addresses only.** Every address a host resolves to is checked *when we connect*, after
  DNS resolution, and the connection goes to the address that was checked, so a name that
  resolves elsewhere after the URL was saved (DNS rebinding) gains nothing. Loopback, private,
  link-local, shared (carrier-grade NAT), multicast, unspecified, cloud-metadata and other
  non-public ranges are refused, IPv4 and IPv6, IPv4 inside IPv6 included.
  ``OBFBROKER_OUTBOUND_ALLOWED_NETWORKS`` opens named ranges (an internal relay), never the
  cloud-metadata or unspecified addresses.
- **No redirects** are followed: a 3xx is an answer like any other.

When a URL is saved, what can be known then is checked too (the scheme, an address written in
the URL, ``localhost``), so most mistakes are told at once; the check at connect time is the one
that holds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from obfbroker.tls import client_context

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


class AddressClass(StrEnum):
    """A kind of address a customer's URL must not lead to, and what it is."""

    CLOUD_METADATA = "cloud_metadata"
    UNSPECIFIED = "unspecified"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link_local"
    SHARED = "shared"
    MULTICAST = "multicast"
    RESERVED = "reserved"

    @property
    def description(self) -> str:
        return ADDRESS_CLASS_DESCRIPTIONS[self]


ADDRESS_CLASS_DESCRIPTIONS = {
    AddressClass.CLOUD_METADATA: "a cloud provider's instance-metadata address (169.254.169.254 and kin)",
    AddressClass.UNSPECIFIED: "an unspecified address (0.0.0.0/8, ::), which reaches this machine",
    AddressClass.LOOPBACK: "a loopback address (127.0.0.0/8, ::1): this machine",
    AddressClass.PRIVATE: "a private address (10/8, 172.16/12, 192.168/16, fc00::/7)",
    AddressClass.LINK_LOCAL: "a link-local address (169.254/16, fe80::/10)",
    AddressClass.SHARED: "a carrier-grade NAT address (100.64.0.0/10)",
    AddressClass.MULTICAST: "a multicast address (224.0.0.0/4, ff00::/8)",
    AddressClass.RESERVED: "a reserved or otherwise non-public address",
}
# Never opened by OBFBROKER_OUTBOUND_ALLOWED_NETWORKS.
ALWAYS_REFUSED = frozenset({AddressClass.CLOUD_METADATA, AddressClass.UNSPECIFIED})


def _networks(kind: AddressClass, *cidrs: str) -> list[tuple[Network, AddressClass]]:
    return [(ipaddress.ip_network(cidr), kind) for cidr in cidrs]


# Checked in this order (the first match names the class); whatever else Python's ipaddress
# does not call global is RESERVED.
REFUSED_NETWORKS = [
    *_networks(AddressClass.CLOUD_METADATA, "169.254.169.254/32", "169.254.170.2/32", "169.254.169.253/32",
               "100.100.100.200/32", "192.0.0.192/32", "168.63.129.16/32", "fd00:ec2::254/128",
               "fd00:ec2::23/128"),
    *_networks(AddressClass.UNSPECIFIED, "0.0.0.0/8", "::/128"),
    *_networks(AddressClass.LOOPBACK, "127.0.0.0/8", "::1/128"),
    *_networks(AddressClass.PRIVATE, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
               "fec0::/10"),
    *_networks(AddressClass.LINK_LOCAL, "169.254.0.0/16", "fe80::/10"),
    *_networks(AddressClass.SHARED, "100.64.0.0/10"),
    *_networks(AddressClass.MULTICAST, "224.0.0.0/4", "ff00::/8"),
    *_networks(AddressClass.RESERVED, "240.0.0.0/4", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
               "198.51.100.0/24", "203.0.113.0/24", "::/8", "100::/64", "2001:db8::/32", "64:ff9b:1::/48"),
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to its destination: mapped (::ffff:a.b.c.d),
    NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def classify(address: Address) -> AddressClass | None:
    """What ``address`` is, if it is not a public address we may connect to."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return classify(embedded)
    for network, kind in REFUSED_NETWORKS:
        if address in network:
            return kind
    return None if address.is_global else AddressClass.RESERVED


def parse_address(text: str) -> Address | None:
    """An address written as text, scope id dropped, or None when it is a name."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _literal_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """What the resolver would make of a numeric IPv4 host in a short form (127.1, 0x7f.1,
    2130706433); None for anything with a letter outside hex."""
    if not host or not all(c in "0123456789abcdefx." for c in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def parse_host_entry(entry: str) -> tuple[str, int | None]:
    """``host`` or ``host:port`` (``[v6]:port`` for IPv6) of OBFBROKER_OUTBOUND_ALLOWED_HOSTS."""
    text = entry.strip().lower()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        raise ValueError(f"{entry[:60]!r} is not a host or host:port")
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{entry[:60]!r} has no valid port")
        return host, int(port_text)
    return host, None


class UrlRefusal(StrEnum):
    """Why a URL is refused when it is saved."""

    PLAIN_HTTP = "plain_http"
    REFUSED_ADDRESS = "refused_address"


@dataclass(frozen=True)
class UrlProblem:
    reason: UrlRefusal
    address_class: AddressClass | None = None

    @property
    def message(self) -> str:
        """What the URL must be instead, to follow its field's name."""
        if self.reason is UrlRefusal.PLAIN_HTTP or self.address_class is None:
            return ("must use https (plain http only to a development host this deployment allows in "
                    "OBFBROKER_OUTBOUND_ALLOWED_HOSTS)")
        return (f"must not lead to {self.address_class.description}: obfbroker only connects to "
                "public addresses")


@dataclass(frozen=True)
class OutboundPolicy:
    """The operator's choices: hosts allowed for development, and extra allowed ranges."""

    allowed_hosts: frozenset[tuple[str, int | None]] = frozenset()
    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> OutboundPolicy:
        return cls(frozenset(parse_host_entry(entry) for entry in settings.outbound_allowed_host_list),
                   tuple(ipaddress.ip_network(item, strict=False)
                         for item in settings.outbound_allowed_network_list))

    def host_allowed(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        return (host, port) in self.allowed_hosts or (host, None) in self.allowed_hosts

    def refused(self, address: Address) -> AddressClass | None:
        """Why we must not connect to ``address``; None when we may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        kind = classify(address)
        if kind is None or kind in ALWAYS_REFUSED:
            return kind
        return None if any(address in network for network in self.allowed_networks) else kind

    def check_url(self, url: str) -> UrlProblem | None:
        """What can be told when a (well-formed) URL is saved: plain http to a host not allowed,
        or a host that is itself a refused address (or ``localhost``). None: fine so far."""
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.host_allowed(host, port):
            return None
        if parts.scheme != "https":
            return UrlProblem(UrlRefusal.PLAIN_HTTP)
        if host == "localhost" or host.endswith(".localhost"):
            return UrlProblem(UrlRefusal.REFUSED_ADDRESS, AddressClass.LOOPBACK)
        address = parse_address(host) or _literal_ipv4(host)
        kind = self.refused(address) if address is not None else None
        return UrlProblem(UrlRefusal.REFUSED_ADDRESS, kind) if kind is not None else None


class OutboundRefused(httpx.ConnectError):
    """The policy refused the request before anything was sent: ``reason`` is ``plain_http`` or
    the class of the address the host resolved to (what a refused delivery records)."""

    def __init__(self, reason: str, why: str) -> None:
        super().__init__(f"refused: {why}")
        self.reason = reason


def address_refused(kind: AddressClass) -> OutboundRefused:
    return OutboundRefused(kind.value, f"the host resolves to {kind.description}")


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system's resolver), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the policy in front of every new connection: resolve,
    check every address, connect to a checked one."""

    def __init__(self, policy: OutboundPolicy, resolve: Resolver) -> None:
        self.policy, self.resolve = policy, resolve
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        if self.policy.host_allowed(host, port):
            return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            async with asyncio.timeout(timeout):
                found = await self.resolve(host, port)
        except (OSError, UnicodeError) as err:
            raise httpcore.ConnectError(f"cannot resolve the host ({type(err).__name__})") from None
        except TimeoutError:
            raise httpcore.ConnectTimeout("resolving the host timed out") from None
        addresses = list(dict.fromkeys(address for text in found if (address := parse_address(text))))
        if not addresses:
            raise httpcore.ConnectError("the host has no address")
        # Every address must pass: a name mixing public and internal addresses is refused whole.
        for address in addresses:
            kind = self.policy.refused(address)
            if kind is not None:
                raise address_refused(kind)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address,
                                                    socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
        raise last  # type: ignore[misc]

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not a customer URL")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: OutboundPolicy, resolve: Resolver, tls: ssl.SSLContext) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=tls, trust_env=False, limits=limits)
        self.policy = policy
        # httpx has no parameter for a network backend; its connection pool (httpcore's) does.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=_GuardedBackend(policy, resolve))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "https" and not self.policy.host_allowed(url.host, url.port or 80):
            # A URL stored before the policy, or a host the operator no longer allows.
            raise OutboundRefused("plain_http", "plain http to a host not allowed for development")
        return await super().handle_async_request(request)


def outbound_client(policy: OutboundPolicy, *, timeout: float, resolve: Resolver = system_resolver,
                    tls: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    """The HTTP client for customers' URLs: the policy at every request and connect, no redirects
    followed, no proxy or other settings taken from the environment. ``tls``: the process's
    trust store unless given."""
    transport = _GuardedTransport(policy, resolve, tls or client_context())
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)
