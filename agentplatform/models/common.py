"""Column helpers shared by every table (ids, timestamps, JSON) and the one rule for text that
enters the server (`InputText`), with the bounded field types every Create/Update shape uses."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, GetCoreSchemaHandler
from pydantic import Field as PydanticField
from pydantic_core import CoreSchema, core_schema
from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

NAME_MAX = 100
DESCRIPTION_MAX = 2_000
TEXT_MAX = 100_000
TAG_MAX = 40
TAGS_MAX = 20
# Template variables (a run's, a render's): how many, how long a name, a value and all values.
VARIABLES_MAX = 100
VARIABLE_NAME_MAX = 64
VARIABLE_VALUE_MAX = 20_000
VARIABLES_TOTAL_MAX = TEXT_MAX
JSON_DEPTH_MAX = 32  # nesting of free-form JSON (prompt config, render variables)


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


# Control characters (Unicode Cc) and lone surrogates: unstorable on PostgreSQL (NUL), invisible
# or terminal-escaping elsewhere. Multi-line text keeps tab, line feed and carriage return.
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def refuse_control_characters(text: str, *, multiline: bool) -> None:
    """Raise ValueError naming the first control character (or lone surrogate) in `text`."""
    found = (_CONTROL_MULTILINE if multiline else _CONTROL_SINGLE_LINE).search(text)
    if found is None:
        return
    char = found.group()
    if char in "\t\n\r":
        what = "a tab or line break (this field is one line)"
    elif "\ud800" <= char <= "\udfff":
        what = "a lone surrogate (not valid Unicode text)"
    else:
        what = "a control character"
    raise ValueError(f"must not contain {what}: U+{ord(char):04X} at position {found.start()}")


def normalize_name(text: str) -> str:
    """A name as stored and compared: NFKC, format characters (zero-width, bidi) removed, trimmed;
    so names that look the same are the same name."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


@dataclass(frozen=True, slots=True)
class InputText:
    """The one rule for a text field that enters the server: control characters refused (tab and
    line breaks only where `multiline`), names normalised (`normalize_name`) before the length,
    `pattern` and uniqueness checks. Use as `Annotated[str, InputText(max_length=…)]`."""

    max_length: int
    min_length: int = 0
    multiline: bool = False
    name: bool = False
    strip: bool = False
    pattern: str | None = None

    def clean(self, value: Any) -> Any:
        """Check (and for names normalise) a string; anything else is left to the str schema."""
        if not isinstance(value, str):
            return value
        refuse_control_characters(value, multiline=self.multiline)
        return normalize_name(value) if self.name else value

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        checked = core_schema.str_schema(
            min_length=self.min_length or None,
            max_length=self.max_length,
            pattern=self.pattern,
            strip_whitespace=self.strip or None,
        )
        return core_schema.no_info_before_validator_function(self.clean, checked)


def _refuse_in_json(value: Any) -> None:
    """Apply the text rule to every key (one line) and string (multi-line) of a JSON value, and
    bound its nesting (walked iteratively, so depth is no recursion risk here or later)."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        item, path, depth = pending.pop()
        if depth > JSON_DEPTH_MAX:
            raise ValueError(f"nests deeper than {JSON_DEPTH_MAX} levels (at '{path}')")
        if isinstance(item, str):
            try:
                refuse_control_characters(item, multiline=True)
            except ValueError as exc:
                raise ValueError(f"at '{path}': {exc}") from None
        elif isinstance(item, dict):
            for key, child in item.items():
                try:
                    refuse_control_characters(str(key), multiline=False)
                except ValueError as exc:
                    raise ValueError(f"a key under '{path or '(top)'}' {exc}") from None
                pending.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list | tuple):
            for index, child in enumerate(item):
                pending.append((child, f"{path}.{index}" if path else str(index), depth + 1))


def _checked_json(value: dict[str, Any]) -> dict[str, Any]:
    """A free-form JSON object: every key and string follows the text rule, nesting bounded."""
    _refuse_in_json(value)
    return value


def _variables_within_total(value: dict[str, str]) -> dict[str, str]:
    total = sum(len(text) for text in value.values())
    if total > VARIABLES_TOTAL_MAX:
        raise ValueError(
            f"the values add up to {total} characters; at most {VARIABLES_TOTAL_MAX} in all"
        )
    return value


def _unique_tags(tags: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(tag.strip().lower(), None)
    return [t for t in seen if t]


Name = Annotated[str, InputText(max_length=NAME_MAX, min_length=1, name=True)]
Description = Annotated[str, InputText(max_length=DESCRIPTION_MAX, multiline=True)]
LongText = Annotated[str, InputText(max_length=TEXT_MAX, multiline=True)]
Tag = Annotated[str, InputText(max_length=TAG_MAX, min_length=1, name=True)]
Tags = Annotated[list[Tag], AfterValidator(_unique_tags), Field(max_length=TAGS_MAX)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_checked_json)]
VariableName = Annotated[
    str,
    InputText(max_length=VARIABLE_NAME_MAX, min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
]
VariableValue = Annotated[str, InputText(max_length=VARIABLE_VALUE_MAX, multiline=True)]
Variables = Annotated[
    dict[VariableName, VariableValue],
    PydanticField(max_length=VARIABLES_MAX),
    AfterValidator(_variables_within_total),
]
TemplateVariables = Annotated[
    dict[VariableName, Any], PydanticField(max_length=VARIABLES_MAX), AfterValidator(_checked_json)
]
