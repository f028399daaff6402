"""Plain-data helpers of the prompt pages: times, label lists and field errors for state vars."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from agentplatform.core.errors import AppError

PRODUCTION = "production"
LATEST = "latest"


def ago(iso: str | None, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago', else the date."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 7 * 86_400:
        days = int(seconds // 86_400)
        return f"{days} day{'s' if days > 1 else ''} ago"
    return f"{moment:%b} {moment.day}, {moment.year}"


def stamp(iso: str | None) -> str:
    """The full UTC time, for tooltips."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def label_list(labels: dict[str, int]) -> list[dict[str, Any]]:
    """Labels as badges: production first, then by name, the automatic `latest` last."""
    names = sorted(labels, key=lambda n: (n != PRODUCTION, n == LATEST, n))
    return [{"name": n, "version": labels[n], "automatic": n == LATEST} for n in names]


def prompt_card(public: dict[str, Any]) -> dict[str, Any]:
    """A `PromptPublic` dump, shaped for a `PromptCard`."""
    latest = public.get("latest_version")
    return {
        "id": public["id"],
        "name": public["name"],
        "description": public["description"],
        "tags": list(public["tags"]),
        "labels": [x for x in label_list(public["labels"]) if not x["automatic"]],
        "latest": f"v{latest}" if latest else "",
        "updated": ago(public["updated_at"]),
        "updated_full": stamp(public["updated_at"]),
    }


def version_row(public: dict[str, Any], authors: dict[str, str]) -> dict[str, Any]:
    """A `PromptVersionPublic` dump with its author's name and readable times."""
    author_id = public.get("author_id")
    config = public.get("config") or {}
    return {
        "number": public["number"],
        "commit_message": public["commit_message"],
        "author": authors.get(str(author_id), "a former member") if author_id else "unknown",
        "created": ago(public["created_at"]),
        "created_full": stamp(public["created_at"]),
        "labels": [n for n in public.get("labels", []) if n != LATEST],
        "is_latest": LATEST in public.get("labels", []),
        "template": public["template"],
        "variables": list(public["variables"]),
        "config_json": json.dumps(config, indent=2, sort_keys=True) if config else "",
    }


def split_tags(text: str) -> list[str]:
    """'a, b ,c' → ['a', 'b', 'c']."""
    return [t.strip() for t in text.replace("\n", ",").split(",") if t.strip()]


def field_errors(error: ValidationError, fields: dict[str, str]) -> dict[str, str]:
    """One message per form field; `fields` maps a `loc` prefix ("first_version.template")."""
    found: dict[str, str] = {}
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"])
        target = next((f for prefix, f in fields.items() if path.startswith(prefix)), "")
        message = str(item["msg"]).removeprefix("Value error, ")
        found.setdefault(target or next(iter(fields.values())), message)
    return found


def detail_fields(error: AppError, fields: dict[str, str]) -> dict[str, str]:
    """Field messages from an `AppError`'s details (`{"field": …}` or a list of them)."""
    details = error.details
    items = details if isinstance(details, list) else [details] if details else []
    found: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and item.get("field") in fields:
            found.setdefault(fields[str(item["field"])], error.message)
    return found
