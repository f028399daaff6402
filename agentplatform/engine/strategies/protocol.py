"""Text formats teams use to talk to models: task/transcript sections, selector, aggregator."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from agentplatform.engine.providers.base import ChatMessage

DONE = "TERMINATE"
DONE_WORDS = frozenset({"TERMINATE", "DONE", "END", "FINISH", "FINISHED", "STOP", "NONE"})
TASK_PREFIX = "Task: "
SELECTOR_HEADER = "## Choose the next speaker"
AGGREGATOR_HEADER = "## Combine the team's answers"
VALID_NAMES_PREFIX = "Valid names: "
SPOKEN_PREFIX = "Turns so far: "

_SECTION = re.compile(r"^### (.+)$", re.MULTILINE)


def section(name: str, content: str) -> str:
    """One member's contribution inside a team message."""
    return f"### {name}\n{content.strip()}"


def parse_sections(text: str) -> list[tuple[str, str]]:
    """The `### name` sections of a team message, in order."""
    heads = list(_SECTION.finditer(text))
    if not heads:
        return []
    return [
        (h.group(1).strip(), text[h.end() : nxt.start() if nxt else len(text)].strip())
        for h, nxt in zip(heads, [*heads[1:], None], strict=True)
    ]


def task_of(text: str) -> str:
    """The task a team message is about (its `Task:` paragraph), else the whole text."""
    if text.startswith(TASK_PREFIX):
        return text[len(TASK_PREFIX) :].split("\n\n", 1)[0].strip()
    return text.strip()


def sequential_input(task: str, previous: tuple[str, str] | None) -> str:
    """What a sequential member receives: the task and the previous member's output."""
    if previous is None:
        return task
    return f"{TASK_PREFIX}{task}\n\nBuild on the previous step below.\n\n{section(*previous)}"


def transcript_messages(
    task: str, transcript: list[tuple[str, str]], speaker: str
) -> list[ChatMessage]:
    """A shared conversation as `speaker` sees it: its turns as assistant, others as user."""
    messages: list[ChatMessage] = [ChatMessage(role="user", content=f"{TASK_PREFIX}{task}")]
    for name, content in transcript:
        if name == speaker:
            messages.append(ChatMessage(role="assistant", content=content))
        elif messages[-1].role == "user":
            merged = f"{messages[-1].content}\n\n{section(name, content)}"
            messages[-1] = ChatMessage(role="user", content=merged)
        else:
            messages.append(ChatMessage(role="user", content=section(name, content)))
    if messages[-1].role == "assistant":
        messages.append(ChatMessage(role="user", content=f"Continue the task as {speaker}."))
    return messages


def selector_system(instructions: str, candidates: list[tuple[str, str]]) -> str:
    """The selector's system prompt: its instructions plus the selection protocol."""
    lines = [f"- {name}: {desc}" if desc else f"- {name}" for name, desc in candidates]
    names = json.dumps([name for name, _ in candidates])
    protocol = (
        f"{SELECTOR_HEADER}\n"
        "You coordinate a team working on the task below. Team members:\n"
        + "\n".join(lines)
        + f"\n{VALID_NAMES_PREFIX}{names}\n"
        'Reply with one JSON object only: {"next": "<a valid name>", "reason": "<one sentence>"}.'
        f' When the task is fully answered, reply {{"next": "{DONE}", "reason": "<why>"}}.'
    )
    return f"{instructions.strip()}\n\n{protocol}" if instructions.strip() else protocol


def selector_input(task: str, transcript: list[tuple[str, str]]) -> str:
    """The selector's user message: task, who has spoken, and the conversation so far."""
    spoken = json.dumps([name for name, _ in transcript])
    parts = [f"{TASK_PREFIX}{task}", f"{SPOKEN_PREFIX}{spoken}"]
    parts += [section(name, content) for name, content in transcript]
    return "\n\n".join(parts)


def json_list_after(prefix: str, text: str) -> list[str]:
    """The JSON list of names on the line starting with `prefix` (empty if absent)."""
    for line in text.splitlines():
        if line.startswith(prefix):
            try:
                value = json.loads(line[len(prefix) :])
            except ValueError:
                return []
            return [str(v) for v in value] if isinstance(value, list) else []
    return []


@dataclass(frozen=True)
class Selection:
    """A selector's decision: `next` is a member name, or None to end the run."""

    next: str | None
    reason: str


def _match(name: str, candidates: list[str]) -> str | None:
    """The candidate called `name`, ignoring case and surrounding spaces."""
    wanted = name.strip().lower()
    return next((c for c in candidates if c.lower() == wanted), None)


def parse_selection(text: str, candidates: list[str]) -> Selection | None:
    """Parse `{"next", "reason"}`; fall back to the first name mentioned; None if unclear."""
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            data, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        name = data.get("next") or data.get("speaker") or data.get("name")
        reason = str(data.get("reason") or "").strip()
        if isinstance(name, str):
            if name.strip().upper() in DONE_WORDS:
                return Selection(next=None, reason=reason or "the selector ended the run")
            match = _match(name, candidates)
            if match:
                return Selection(next=match, reason=reason or f"the selector chose {match}")
    mentions = []
    for name in candidates:
        hit = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)
        if hit:
            mentions.append((hit.start(), name))
    if mentions:
        return Selection(next=min(mentions)[1], reason=text.strip()[:300])
    if re.search(r"\b(TERMINATE|DONE)\b", text):
        return Selection(next=None, reason=text.strip()[:300])
    return None


def aggregator_system(instructions: str) -> str:
    """The aggregator's system prompt: its instructions plus the combining protocol."""
    protocol = (
        f"{AGGREGATOR_HEADER}\n"
        "Several team members answered the same task independently. Combine their answers "
        "into one final answer: keep what they agree on, resolve conflicts, drop repetition."
    )
    return f"{instructions.strip()}\n\n{protocol}" if instructions.strip() else protocol


def aggregator_input(task: str, answers: list[tuple[str, str]]) -> str:
    """The aggregator's user message: the task and each member's answer."""
    return "\n\n".join([f"{TASK_PREFIX}{task}", *(section(n, a) for n, a in answers)])
