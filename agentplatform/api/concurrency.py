"""Headers shared by resource routes: ETag, If-Match (optimistic concurrency), Location."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response

from agentplatform.services.pagination import Page

API_PREFIX = "/api"
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')
ETAG_HEADER: dict[str, Any] = {
    "ETag": {"description": 'The resource version, e.g. `"3"`', "schema": {"type": "string"}}
}
CREATED_HEADERS: dict[str, Any] = {
    **ETAG_HEADER,
    "Location": {"description": "Path of the new resource", "schema": {"type": "string"}},
}


def parse_if_match(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` → 3; absent or `*` → None; anything else never matches (-1)."""
    if value is None or value.strip() in ("", "*"):
        return None
    match = _ETAG.match(value.strip())
    return int(match.group(1)) if match else -1


def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=100,
            description='The version you read (its ETag, e.g. `"3"`); a stale one answers 412.',
        ),
    ] = None,
) -> int | None:
    return parse_if_match(if_match)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
PageQuery = Annotated[Page, Query()]


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def created(response: Response, path: str, version: int) -> None:
    """Headers of a 201: where the new resource lives, and its ETag."""
    response.headers["Location"] = f"{API_PREFIX}{path}"
    set_etag(response, version)
