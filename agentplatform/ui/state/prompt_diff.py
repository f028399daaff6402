"""Compare any two versions of a prompt: template lines side by side and config changes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.services import prompt_versions
from agentplatform.ui.components.diff_view import side_by_side
from agentplatform.ui.state.prompt_detail import PromptDetailState
from agentplatform.ui.state.session import toast_error


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def config_rows(changes: dict[str, Any]) -> list[dict[str, str]]:
    """`diff_versions` config changes as rows: key, kind, before, after."""
    rows = [
        {"key": k, "kind": "added", "before": "", "after": _json(v)}
        for k, v in changes.get("added", {}).items()
    ]
    rows += [
        {"key": k, "kind": "removed", "before": _json(v), "after": ""}
        for k, v in changes.get("removed", {}).items()
    ]
    rows += [
        {"key": k, "kind": "changed", "before": _json(v["from"]), "after": _json(v["to"])}
        for k, v in changes.get("changed", {}).items()
    ]
    return sorted(rows, key=lambda r: r["key"])


class PromptDiffState(PromptDetailState):
    """The two versions chosen and their diff."""

    diff_from: str = ""
    diff_to: str = ""
    diff_rows: list[dict[str, str]] = []
    config_changes: list[dict[str, str]] = []
    added_count: int = 0
    removed_count: int = 0
    diff_loading: bool = False
    diff_error: str = ""

    async def _compare(self) -> EventSpec | None:
        if not self.diff_from or not self.diff_to:
            return None
        self.diff_loading = True
        try:
            async with session_scope() as db:
                diff = await prompt_versions.diff_versions(
                    session=db,
                    actor=await self.actor(db),
                    prompt_id=uuid.UUID(self._prompt_uuid),
                    from_version=int(self.diff_from),
                    to_version=int(self.diff_to),
                )
        except Unauthenticated:
            return None
        except AppError as error:
            self.diff_error = error.message
            return toast_error(error)
        finally:
            self.diff_loading = False
        self.diff_error = ""
        self.diff_rows = side_by_side(diff.lines)
        self.added_count = sum(1 for line in diff.lines if line["op"] == "+")
        self.removed_count = sum(1 for line in diff.lines if line["op"] == "-")
        self.config_changes = config_rows(diff.config_changes)
        return None

    @rx.event
    async def start(self) -> EventSpec | None:
        """`on_load` (after the prompt loaded) and after a save: latest against the one before."""
        self.diff_rows, self.config_changes, self.diff_error = [], [], ""
        if len(self.versions) < 2:
            self.diff_from = self.diff_to = ""
            return None
        self.diff_to = str(self.versions[0]["number"])
        self.diff_from = str(self.versions[1]["number"])
        return await self._compare()

    @rx.event
    async def set_diff_from(self, value: str) -> EventSpec | None:
        self.diff_from = value
        return await self._compare()

    @rx.event
    async def set_diff_to(self, value: str) -> EventSpec | None:
        self.diff_to = value
        return await self._compare()

    @rx.event
    async def swap(self) -> EventSpec | None:
        self.diff_from, self.diff_to = self.diff_to, self.diff_from
        return await self._compare()

    @rx.event
    async def compare_with_previous(self, number: int) -> EventSpec | None:
        """From the history: this version against the one before it, on the Compare tab."""
        numbers = [int(v["number"]) for v in self.versions]
        older = [n for n in numbers if n < int(number)]
        self.diff_to = str(number)
        self.diff_from = str(max(older)) if older else str(number)
        self.tab = "compare"
        return await self._compare()
