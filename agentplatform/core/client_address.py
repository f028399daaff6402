"""The client's address: the peer's, or what a trusted proxy says (TRUSTED_PROXIES).

A forwarded header is written by whoever sends it, so it is read only when the direct peer
is a trusted proxy, and then from the right: each trusted hop is skipped, and the first
address that is not a trusted proxy is the client (the rightmost untrusted address). What a
client put further left cannot be told from what its proxies added, so it is never used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from agentplatform.core.config import ForwardedHeader, get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def _parse_ip(value: str) -> IPAddress | None:
    """An address from `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]:80`, `"[::1]"`; else None."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _x_forwarded_for(values: Iterable[str]) -> list[str]:
    return [item for value in values for item in value.split(",")]


def _forwarded(values: Iterable[str]) -> list[str]:
    """The `for=` of each element of RFC 7239 `Forwarded` headers (in order)."""
    hops = []
    for value in values:
        for element in value.split(","):
            for pair in element.split(";"):
                name, _, found = pair.partition("=")
                if name.strip().lower() == "for":
                    hops.append(found)
                    break
            else:
                hops.append("")  # an element without `for=`: an unknown hop
    return hops


def _trusted(address: IPAddress, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def resolve_client_address(peer: str | None, headers: Iterable[tuple[str, str]]) -> str:
    """The client's address given the direct peer and the request's headers (lower-case
    names); the peer itself unless it is a trusted proxy."""
    settings = get_settings()
    networks = settings.trusted_proxy_networks
    client = _parse_ip(peer or "")
    if client is None:
        return peer or UNKNOWN
    if not networks or not _trusted(client, networks):
        return str(client)
    wanted = str(settings.forwarded_header)
    values = [value for name, value in headers if name == wanted]
    hops = _forwarded(values) if wanted == ForwardedHeader.forwarded else _x_forwarded_for(values)
    for hop in reversed(hops):
        address = _parse_ip(hop)
        if address is None:  # garbage or an obfuscated hop: the last proxy is all we know
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def scope_client_address(scope: Mapping[str, Any]) -> str:
    """`resolve_client_address` for an ASGI HTTP scope."""
    peer = scope.get("client")
    host = peer[0] if peer else None
    headers = (
        (name.decode("latin-1").lower(), value.decode("latin-1"))
        for name, value in scope.get("headers") or []
    )
    return resolve_client_address(host, headers)
