"""Which clients may speak for others: ``CALLBOARD_TRUSTED_PROXIES``.

A reverse proxy in front of Callboard says what the original request was with
``X-Forwarded-Proto`` / ``X-Forwarded-Host`` (the public URL the client used: it goes
into every ``url``, ``webhook_url`` and the URL a webhook signature covers) and
``X-Forwarded-For`` (the client's address: wrong-credential throttling counts per
address). Anyone can send those headers, so they are believed only when the connection
comes from an address in ``CALLBOARD_TRUSTED_PROXIES`` — a comma-separated list of IP
addresses and CIDR ranges (``127.0.0.1, 10.0.0.0/8``). The default is none: the headers
are ignored, and URLs come from the request's own ``Host``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import Scope

__all__ = ["TrustedProxies", "client_address", "trusted_proxies_of"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str, name: str = "CALLBOARD_TRUSTED_PROXIES") -> TrustedProxies:
        networks: list[Network] = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(
                    f"{name}: {part!r} is not an IP address or CIDR range (e.g. 10.0.0.0/8)"
                ) from None
        return cls(tuple(networks))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TrustedProxies:
        env = os.environ if environ is None else environ
        return cls.parse(env.get("CALLBOARD_TRUSTED_PROXIES") or "")

    def trusts(self, address: str | None) -> bool:
        if not address or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def trusted_peer(self, scope: Scope) -> bool:
        """Whether the connection's peer is a trusted proxy."""
        client = scope.get("client")
        return client is not None and self.trusts(str(client[0]))


def trusted_proxies_of(scope: Scope) -> TrustedProxies:
    app = scope.get("app")
    found = getattr(getattr(app, "state", None), "trusted_proxies", None)
    return found if isinstance(found, TrustedProxies) else TrustedProxies()


def client_address(scope: Scope) -> str:
    """The client's address: the peer's, or — when the peer is a trusted proxy — the
    right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    proxies = trusted_proxies_of(scope)
    if not proxies.trusts(peer):
        return peer
    forwarded = ""
    for key, value in scope.get("headers") or []:
        if key.lower() == b"x-forwarded-for":
            forwarded = (
                f"{forwarded},{value.decode('latin-1')}" if forwarded else value.decode("latin-1")
            )
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not proxies.trusts(hop):
            return hop
    return peer
