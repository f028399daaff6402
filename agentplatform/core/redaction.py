"""Secret scrubbing shared by the log filter and error reporting: nothing sensitive leaves."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
MAX_DEPTH = 12

# A mapping key whose value is a secret, e.g. `password`, `X-API-Key`, `refresh_token`, `dsn`.
SECRET_KEY = re.compile(
    r"passw(or)?d|^pwd$|secret|token(?!s)|api[_-]?key|dsn|authorization|cookie|credential"
    r"|private[_-]?key",
    re.IGNORECASE,
)
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (re.compile(r"\b(apk|rt)_[A-Za-z0-9_-]{16,}"), rf"\1_{REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"(?i)\b(sk|sk-ant|sk-proj)-[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]+):[^@\s/]+@", re.IGNORECASE), rf"\1:{REDACTED}@"),
    (
        re.compile(
            r"""(?ix)
            (["']?\b(?:password|passwd|pwd|secret|token|api[_-]?key|client[_-]?secret)\b["']?
             \s*[=:]\s*["']?)
            ([^\s"'&,;}]+)
            """
        ),
        rf"\1{REDACTED}",
    ),
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def redact_text(text: str, *, emails: bool = False) -> str:
    """`text` with bearer tokens, API keys, JWTs, URL passwords and `password=…` masked."""
    for pattern, replacement in _TEXT_RULES:
        text = pattern.sub(replacement, text)
    return _EMAIL.sub("[email]", text) if emails else text


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(SECRET_KEY.search(key))


def scrub(value: Any, *, emails: bool = False, _depth: int = 0) -> Any:
    """A copy of `value` (dicts, lists, strings) with secret keys and secret-looking text masked."""
    if _depth > MAX_DEPTH:
        return value
    if isinstance(value, str):
        return redact_text(value, emails=emails)
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if is_secret_key(key) and item
            else scrub(item, emails=emails, _depth=_depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        items = [scrub(item, emails=emails, _depth=_depth + 1) for item in value]
        # Header lists are [name, value] pairs: mask the value of a secret-named header.
        if len(items) == 2 and is_secret_key(items[0]) and isinstance(items[1], str):
            items[1] = REDACTED
        return items if isinstance(value, list) else tuple(items)
    return value
