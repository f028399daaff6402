"""Column helpers shared by every table: ids, timestamps, JSON and bounded strings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints
from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

NAME_MAX = 100
DESCRIPTION_MAX = 2_000
TEXT_MAX = 100_000
TAG_MAX = 40
TAGS_MAX = 20


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A time given by a caller, in UTC; a naive one is taken to be UTC already.
    (Stored times need no such care: UTCDateTime hands them back aware.)"""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def id_field(**kwargs: Any) -> Any:
    return Field(default_factory=new_id, primary_key=True, **kwargs)


def created_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def json_field(default_factory: Any = list) -> Any:
    return Field(default_factory=default_factory, sa_type=JSON, nullable=False)


def _unique_tags(tags: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(tag.strip().lower(), None)
    return [t for t in seen if t]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX)]
LongText = Annotated[str, StringConstraints(max_length=TEXT_MAX)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TAG_MAX)]
Tags = Annotated[list[Tag], AfterValidator(_unique_tags), Field(max_length=TAGS_MAX)]
