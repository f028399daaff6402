"""The signed-in browser's address for the sign-in throttle, as TRUSTED_PROXIES allows."""

from __future__ import annotations

from typing import Any

from agentplatform.core.client_address import resolve_client_address

# Reflex records the websocket's direct peer under this name (a client cannot set it).
PEER_HEADER = "asgi-scope-client"


def browser_address(router: Any) -> str:
    """The client's address for a Reflex event: the websocket's peer, or what a trusted proxy
    says it is (the same rule as the REST API's)."""
    raw = dict(router.headers.raw_headers)
    peer = raw.pop(PEER_HEADER, None) or router.session.client_ip or None
    return resolve_client_address(peer, ((name.lower(), value) for name, value in raw.items()))
