"""Egress control: where requests a flow (or an account's settings) makes may go.

Make HTTP Request and Run Function, Event Streams webhook and Redis-stream sinks, and the
simulator's TwiML fetches all reach URLs that a tenant chose. Without control, they would
reach what only the server can: its own API on loopback, a cloud metadata service at
169.254.169.254, databases on the private network. :class:`EgressPolicy` decides, for
each address a host name **resolves to** (so a name pointing at 127.0.0.1 does not slip
through), and the HTTP clients made by :func:`egress_client` apply it on **every
connection** — every redirect hop included — connecting only to the address that was
checked (no second DNS answer can differ from the checked one).

The rules, in order:

1. an address or host name in ``CALLBOARD_OUTBOUND_ALLOW`` is allowed;
2. one in ``CALLBOARD_OUTBOUND_DENY`` is refused;
3. loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16 — cloud metadata — and
   fe80::/10), unspecified (0.0.0.0/8, ::), multicast and broadcast addresses are
   refused (IPv4 addresses written as IPv6, ``::ffff:127.0.0.1``, count as IPv4);
4. everything else — private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) included —
   is allowed. Put ``private`` in ``CALLBOARD_OUTBOUND_DENY`` to refuse those too.

Both lists are comma-separated; an entry is an IP address, a CIDR range
(``127.0.0.1/32``), a host name (``hooks.example.com``), ``*.example.com`` for its
sub-domains, or the word ``private``. ``unix`` in the allow-list lets Redis sinks use
unix sockets (refused otherwise). A refused request is never sent: the widget takes
its failure path with the reason, a sink delivery fails.

Proxy variables of the environment (``HTTP_PROXY`` …) are not used by these clients.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx

__all__ = ["EgressDenied", "EgressPolicy", "check_url", "egress_client", "resolve_allowed"]

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_ALWAYS_DENIED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "::1/128",
        "169.254.0.0/16",
        "fe80::/10",
        "0.0.0.0/8",
        "::/128",
        "224.0.0.0/4",
        "ff00::/8",
        "255.255.255.255/32",
    )
)
_PRIVATE: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


class EgressDenied(httpcore.ConnectError):
    """The destination is refused by the egress policy; nothing was sent."""


@dataclass(frozen=True)
class _Rules:
    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str, name: str) -> _Rules:
        networks: list[Network] = []
        names: set[str] = set()
        suffixes: list[str] = []
        words: set[str] = set()
        for raw in text.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry in ("private", "unix"):
                words.add(entry)
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*.") and len(entry) > 2:
                suffixes.append(entry[1:])
            elif all(c.isalnum() or c in "-._" for c in entry):
                names.add(entry.rstrip("."))
            else:
                raise ValueError(
                    f"{name}: {raw.strip()!r} is not an IP address, CIDR range, host name, "
                    "*.domain, 'private' or 'unix'"
                )
        return cls(tuple(networks), frozenset(names), tuple(suffixes), frozenset(words))

    def has_name(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def has_address(self, ip: Address) -> bool:
        if "private" in self.words and any(ip in n for n in _PRIVATE):
            return True
        return any(ip.version == n.version and ip in n for n in self.networks)


@dataclass(frozen=True)
class EgressPolicy:
    allow: _Rules = field(default_factory=_Rules)
    deny: _Rules = field(default_factory=_Rules)

    @classmethod
    def parse(cls, allow: str = "", deny: str = "") -> EgressPolicy:
        return cls(
            _Rules.parse(allow, "CALLBOARD_OUTBOUND_ALLOW"),
            _Rules.parse(deny, "CALLBOARD_OUTBOUND_DENY"),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EgressPolicy:
        env = os.environ if environ is None else environ
        return cls.parse(
            env.get("CALLBOARD_OUTBOUND_ALLOW") or "", env.get("CALLBOARD_OUTBOUND_DENY") or ""
        )

    @property
    def allows_unix_sockets(self) -> bool:
        return "unix" in self.allow.words

    def refusal(self, host: str, ip: Address) -> str | None:
        """Why ``ip`` (what ``host`` resolved to) is refused, or None."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.allow.has_name(host) or self.allow.has_address(ip):
            return None
        shown = host if host == str(ip) else f"{host} ({ip})"
        if self.deny.has_name(host) or self.deny.has_address(ip):
            return f"{shown} is in CALLBOARD_OUTBOUND_DENY"
        if any(ip.version == n.version and ip in n for n in _ALWAYS_DENIED):
            return (
                f"{shown} is a loopback, link-local, unspecified or multicast address "
                "(CALLBOARD_OUTBOUND_ALLOW can allow it)"
            )
        return None


def resolve_allowed(
    policy: EgressPolicy, host: str, port: int, timeout: float | None = None
) -> list[str]:
    """The addresses ``host`` resolves to, all allowed; raises :class:`EgressDenied`
    when any of them is refused (a name must not point anywhere refused)."""
    bare = host.strip("[]")
    try:
        literal: Address | None = ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {bare}: {exc}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for ip in addresses:
        reason = policy.refusal(bare, ip)
        if reason is not None:
            raise EgressDenied(f"outbound request refused: {reason}")
    return list(dict.fromkeys(str(ip) for ip in addresses))


def check_url(policy: EgressPolicy, url: str) -> None:
    """Raise :class:`EgressDenied` unless every address of ``url``'s host is allowed
    (used before clients that connect by themselves, such as Redis)."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "unix" or (not parts.hostname and parts.path):
        if not policy.allows_unix_sockets:
            raise EgressDenied("outbound request refused: unix sockets are not allowed")
        return
    default = 6379 if parts.scheme.lower().startswith("redis") else 443
    resolve_allowed(policy, parts.hostname or "localhost", parts.port or default)


class _Backend(httpcore.NetworkBackend):
    """Resolves, checks, then connects to the checked address itself."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in resolve_allowed(self.policy, host, port, timeout):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}:{port}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        raise EgressDenied("outbound request refused: unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    def __init__(self, policy: EgressPolicy, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(policy),
        )


def egress_client(
    policy: EgressPolicy | None = None,
    *,
    limits: httpx.Limits | None = None,
    **options: typing.Any,
) -> httpx.Client:
    """An :class:`httpx.Client` whose every connection obeys ``policy`` (by default the
    environment's). ``options`` are passed to the client (``follow_redirects``,
    ``timeout``, ``max_redirects``...)."""
    transport = _Transport(policy or EgressPolicy.from_env(), limits or httpx.Limits())
    return httpx.Client(transport=transport, trust_env=False, **options)
