"""Shared plumbing of resource services: paging, name/tag filters with counts, versions."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Boolean, Text, cast, func, literal
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from agentplatform.core.errors import Conflict, PreconditionFailed, ValidationFailed
from agentplatform.models.common import TAG_MAX, InputText

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
LIKE_ESCAPE = "\\"


class Page(BaseModel):
    """Paging and filtering of a list endpoint: `limit`, `offset`, `q` (name) and `tag`."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: int = Field(default=0, ge=0, le=1_000_000, description="Items to skip.")
    q: Annotated[str, InputText(max_length=100, name=True)] | None = Field(
        default=None, description="Case-insensitive substring of the name."
    )
    tag: Annotated[str, InputText(max_length=TAG_MAX, name=True)] | None = Field(
        default=None, description="Only items carrying this tag."
    )


def escape_like(text: str) -> str:
    """`text` with LIKE wildcards escaped (use with `escape=LIKE_ESCAPE`)."""
    for char in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, LIKE_ESCAPE + char)
    return text


def name_contains(column: Any, q: str) -> ColumnElement[bool]:
    """Case-insensitive substring match on a name column."""
    return column.ilike(f"%{escape_like(q)}%", escape=LIKE_ESCAPE)


class json_array_has(FunctionElement[bool]):
    """`tag ∈ json_list_column`, compiled per dialect (exact element match, not substring)."""

    type = Boolean()
    inherit_cache = True
    name = "json_array_has"


@compiles(json_array_has)
def _has_default(element: json_array_has, compiler: Any, **kw: Any) -> str:
    """Portable fallback: LIKE on the JSON text for the JSON-encoded element."""
    column, value = list(element.clauses)
    pattern = literal(like_pattern_for_tag(str(getattr(value, "value", ""))))
    return str(compiler.process(cast(column, Text).like(pattern, escape=LIKE_ESCAPE), **kw))


@compiles(json_array_has, "sqlite")
def _has_sqlite(element: json_array_has, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXISTS (SELECT 1 FROM json_each({column}) AS je WHERE je.value = {value})"


@compiles(json_array_has, "postgresql")
def _has_postgresql(element: json_array_has, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"EXISTS (SELECT 1 FROM json_array_elements_text(CAST({column} AS JSON)) AS je(v) "
        f"WHERE je.v = CAST({value} AS TEXT))"
    )


def has_tag(column: Any, tag: str) -> ColumnElement[bool]:
    """Rows whose JSON list `column` contains `tag` (tags are stored lower-case)."""
    return json_array_has(column, tag.strip().lower())


def like_pattern_for_tag(tag: str) -> str:
    """The LIKE pattern matching a JSON-encoded tag inside a JSON list's text."""
    return f"%{escape_like(json.dumps(tag.strip().lower()))}%"


def apply_filters(
    query: SelectOfScalar[T], *, page: Page, name_column: Any, tags_column: Any | None = None
) -> SelectOfScalar[T]:
    """`query` narrowed by the page's `q` (on `name_column`) and `tag` (on `tags_column`)."""
    if page.q:
        query = query.where(name_contains(name_column, page.q))
    if page.tag and tags_column is not None:
        query = query.where(has_tag(tags_column, page.tag))
    return query


def by_name(name_column: Any, id_column: Any) -> list[Any]:
    """Case-insensitive name order, stable across databases and pages."""
    return [func.lower(name_column), name_column, id_column]


async def paginate(
    session: AsyncSession, query: SelectOfScalar[T], *, page: Page, order_by: Any
) -> tuple[list[T], int]:
    """One page of `query` in `order_by` order, and the total number of matching rows."""
    total_query = select(func.count()).select_from(query.order_by(None).subquery())
    total = (await session.exec(total_query)).one()
    rows = await session.exec(query.order_by(*order_by).limit(page.limit).offset(page.offset))
    return list(rows.all()), int(total)


def name_conflict(kind: str, name: str) -> Conflict:
    return Conflict(
        f"A{'n' if kind[0] in 'aeiou' else ''} {kind} named '{name}' already exists in this "
        "workspace: choose another name.",
        details={"field": "name", "name": name},
    )


async def ensure_name_free(
    session: AsyncSession,
    table: Any,
    workspace_id: uuid.UUID,
    name: str,
    *,
    exclude: uuid.UUID | None = None,
) -> None:
    """409 when another row of `table` in the workspace has this name (names are unique)."""
    query = select(table.id).where(table.workspace_id == workspace_id, table.name == name)
    if exclude is not None:
        query = query.where(table.id != exclude)
    if (await session.exec(query)).first():
        raise name_conflict(table.__tablename__, name)


async def commit_unique(session: AsyncSession, kind: str, name: str) -> None:
    """Commit; a unique-name race lost at the database is the same 409."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise name_conflict(kind, name) from None


def check_version(kind: str, current: int, expected: int | None) -> None:
    """Optimistic concurrency: raise 412 (with the current version) when `expected` is stale."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"This {kind} was changed by someone else (now version {current}, you sent "
            f"{expected}): reload it and apply your change again.",
            details={"current_version": current},
        )


def changes(data: BaseModel, *, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH body set; an explicit null on a required field is a 422."""
    updates = data.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in updates.items() if v is None and k not in nullable)
    if nulls:
        raise ValidationFailed(
            f"{', '.join(nulls)} cannot be null: leave the field out to keep its value.",
            details=[{"field": name, "message": "cannot be null"} for name in nulls],
        )
    return updates
