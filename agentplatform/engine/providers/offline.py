"""The built-in offline model: deterministic, no network, good enough to demo tools and teams."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Sequence

from agentplatform.core.errors import ToolError
from agentplatform.engine.providers.base import (
    AssistantMessage,
    ChatMessage,
    TextDeltaCallback,
    ToolCall,
    ToolSchema,
    Usage,
)
from agentplatform.engine.providers.pricing import estimate_tokens
from agentplatform.engine.strategies import protocol
from agentplatform.engine.tools.calculator import evaluate

_STOPWORDS_TEXT = (
    "about above after again also answer because been before being below between both "
    "build could does doing down each from have having here into itself just more most "
    "other over please same should some such than that their them then there these they "
    "this those through under until very were what when where which while will with "
    "would your task step previous below using make give tell explain covers"
)
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORDS_TO_OPS = [
    (r"\bto the power of\b", "**"),
    (r"\bmultiplied by\b", "*"),
    (r"\bdivided by\b", "/"),
    (r"\btimes\b", "*"),
    (r"\bplus\b", "+"),
    (r"\bminus\b", "-"),
]
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*of\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_EXPRESSION = re.compile(
    r"(?:\b(?:sqrt|abs|round|min|max|log10|log|exp|sin|cos|tan|floor|ceil|pi)\b"
    r"|\d+(?:\.\d+)?|\*\*|//|[-+*/%^(),]|[ \t])+"
)
_CLOCK = re.compile(
    r"\bwhat(?:'s| is)? (?:the )?(?:current |today's )?(?:time|date|day)\b|\bwhat day\b"
    r"|\bcurrent (?:time|date)\b|\btime (?:is it|now)\b|\btoday'?s date\b|\bdate today\b",
    re.IGNORECASE,
)
_TIMEZONE = re.compile(r"\b([A-Z][A-Za-z_]+/[A-Za-z_]+(?:/[A-Za-z_]+)?|UTC)\b")
_TEXT_OPS = [
    ("word_count", r"\b(count (the )?words|word count|how many words|number of words)\b"),
    ("char_count", r"\b(count (the )?(characters|chars|letters)|character count)\b"),
    ("char_count", r"\b(how many (characters|chars|letters)|number of characters)\b"),
    ("upper", r"\b(upper ?case|capitali[sz]e|in capitals)\b"),
    ("lower", r"\blower ?case\b"),
    ("title", r"\btitle ?case\b"),
    ("reverse", r"\breverse\b"),
    ("slugify", r"\b(slugify|slug)\b"),
]
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|'([^']+)'|«([^»]+)»")
_URL = re.compile(r"https?://[^\s\"'<>)]+")


def _shorten(text: str, limit: int) -> str:
    """One line, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _first_sentence(text: str) -> str:
    """The first sentence (or line) of `text`."""
    return re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0].strip()


def keywords(text: str, limit: int = 4) -> list[str]:
    """The most frequent content words, ties broken by first appearance."""
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]{3,}", text)]
    counts = Counter(w for w in words if w not in _STOPWORDS)
    first = {w: i for i, w in reversed(list(enumerate(words)))}
    return sorted(counts, key=lambda w: (-counts[w], first[w]))[:limit]


def extract_expression(text: str) -> str | None:
    """The longest arithmetic expression in `text` that the calculator accepts."""
    normal = _PERCENT_OF.sub(r"(\1/100*\2)", text)
    for pattern, op in _WORDS_TO_OPS:
        normal = re.sub(pattern, op, normal, flags=re.IGNORECASE)
    found = sorted((m.group().strip(" ,") for m in _EXPRESSION.finditer(normal)), key=len)
    for candidate in reversed(found):
        if not re.search(r"\d\s*([-+*/%^]|\*\*)\s*[\d(a-z]|[a-z]\s*\(", candidate):
            continue
        try:
            evaluate(candidate)
        except ToolError:
            continue
        return candidate
    return None


def _quoted_or_rest(text: str) -> str:
    """The quoted text in a request, else what follows a colon, else the request."""
    quoted = _QUOTED.search(text)
    if quoted:
        return next(g for g in quoted.groups() if g)
    return text.split(":", 1)[1].strip() if ":" in text else text


def detect_tool_call(request: str, tools: set[str], call_id: str) -> ToolCall | None:
    """The tool call a request clearly asks for, among the tools the agent has."""
    if "text_utils" in tools:
        for operation, pattern in _TEXT_OPS:
            if re.search(pattern, request, re.IGNORECASE):
                args = {"operation": operation, "text": _quoted_or_rest(request)}
                return ToolCall(id=call_id, name="text_utils", arguments=args)
    url = _URL.search(request)
    if "http_get" in tools and url:
        return ToolCall(id=call_id, name="http_get", arguments={"url": url.group().rstrip(".,")})
    expression = extract_expression(request) if "calculator" in tools else None
    if expression:
        return ToolCall(id=call_id, name="calculator", arguments={"expression": expression})
    if "clock" in tools and _CLOCK.search(request):
        zone = _TIMEZONE.search(request)
        args = {"timezone": zone.group(1)} if zone else {}
        return ToolCall(id=call_id, name="clock", arguments=args)
    return None


def _role(instructions: str) -> tuple[str, str]:
    """(who the agent is, its first other directive) from the system instructions."""
    role, guidance = "", ""
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", instructions.strip()):
        found = re.match(r"you are (an? [^.,;!?]+|the [^.,;!?]+)", sentence.strip(), re.I)
        if found and not role:
            role = found.group(1)
        elif sentence.strip() and not guidance and not sentence.startswith("#"):
            guidance = sentence.strip()
    return role, guidance


_FACTS = "- Facts: "
_KEY_POINTS = "- Key points: "


def _is_outline(content: str) -> bool:
    """Whether a member answer is one of this model's plain outlines (not a tool result)."""
    return content.startswith(("As ", "Here is my answer", protocol.DONE, "(no answer)"))


def _facts(sections: list[tuple[str, str]]) -> list[str]:
    """Facts to carry forward: tool-based answers and the facts earlier outlines carried."""
    found: list[str] = []
    for _, content in sections:
        if not _is_outline(content):
            found.append(_shorten(content.splitlines()[0], 200))
        found += [line[len(_FACTS) :] for line in content.splitlines() if line.startswith(_FACTS)]
    return list(dict.fromkeys(found))[:3]


def _gist(content: str) -> str:
    """A member answer in one line: its facts, else its key points, else its first line."""
    facts = _facts([("", content)])
    if facts:
        return " ".join(facts)
    for line in content.splitlines():
        if line.startswith(_KEY_POINTS):
            return f"covers {line[len(_KEY_POINTS) :].strip()}"
    return _shorten(_first_sentence(content), 160)


def plain_answer(instructions: str, request: str) -> str:
    """A short structured answer that uses the instructions and the request."""
    task, sections = protocol.task_of(request), protocol.parse_sections(request)
    role, guidance = _role(instructions)
    intro = f"As {role}, here is my answer to" if role else "Here is my answer to"
    lines = [f"{intro} \u201c{_shorten(task, 120)}\u201d."]
    if sections:
        lines.append(f"- Building on: {', '.join(dict.fromkeys(n for n, _ in sections))}.")
    facts = _facts(sections)
    if facts:
        lines.append(_FACTS + " ".join(facts))
    if sections and re.search(r"review|critic|check|edit", instructions, re.IGNORECASE):
        lines.append("- Review: the previous steps address the task; nothing contradicts them.")
    points = keywords(" ".join([task, *(c for _, c in sections if not _is_outline(c))]))
    if points:
        lines.append(f"{_KEY_POINTS}{', '.join(points)}.")
    if guidance:
        lines.append(f"- Following my instructions: {_shorten(guidance, 140)}")
    lines.append("- Note: offline demo model; a deterministic outline, not live knowledge.")
    return "\n".join(lines)


def answer_from_tools(tail: Sequence[ChatMessage]) -> str:
    """The final answer after tool results, quoting each result."""
    calls = {c.id: c for m in tail if m.role == "assistant" for c in m.tool_calls}
    lines = []
    for message in (m for m in tail if m.role == "tool"):
        call = calls.get(message.tool_call_id or "")
        args = call.arguments if call else {}
        result = message.content
        if result.startswith("Error:"):
            lines.append(f"The {message.name} tool could not help: {result[6:].strip()}")
        elif message.name == "calculator":
            lines.append(f"The answer is {result} ({args.get('expression', '')} = {result}).")
        elif message.name == "clock":
            lines.append(f"The current date and time is {result}.")
        elif message.name == "text_utils":
            lines.append(f"Result of {args.get('operation', 'the operation')}: {result}")
        else:
            lines.append(f"{message.name} returned: {_shorten(result, 400)}")
    return "\n".join(lines)


def select_next(system: str, request: str) -> str:
    """Selector protocol: the first member who has not spoken, then TERMINATE."""
    names = protocol.json_list_after(protocol.VALID_NAMES_PREFIX, system)
    spoken = set(protocol.json_list_after(protocol.SPOKEN_PREFIX, request))
    waiting = [name for name in names if name not in spoken]
    if waiting:
        choice = {"next": waiting[0], "reason": f"{waiting[0]} has not contributed yet."}
    else:
        choice = {"next": protocol.DONE, "reason": "Every member has contributed; done."}
    return json.dumps(choice)


def aggregate(request: str) -> str:
    """Aggregator protocol: one line per member answer plus what they agree on."""
    sections = protocol.parse_sections(request)
    names = ", ".join(name for name, _ in sections)
    lines = [f"Combined answer from {len(sections)} team members ({names}):"]
    lines += [f"- {name}: {_gist(content)}" for name, content in sections]
    shared = Counter(w for _, c in sections for w in set(keywords(_gist(c), 8)))
    agreed = [w for w, n in shared.most_common() if n > 1][:4]
    if agreed:
        lines.append(f"- They agree on: {', '.join(agreed)}.")
    return "\n".join(lines)


def _calls_text(calls: Sequence[ToolCall]) -> str:
    """Tool calls as text, for token estimates."""
    return "".join(c.name + json.dumps(c.arguments) for c in calls)


class OfflineProvider:
    """A deterministic stand-in model; the UI labels it as offline."""

    kind = "offline"

    def __init__(self, model: str = "offline-demo") -> None:
        self.model = model

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSchema] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        on_text: TextDeltaCallback | None = None,
    ) -> AssistantMessage:
        """Answer deterministically; stream word chunks through `on_text`."""
        await asyncio.sleep(0)
        text, calls = self._respond(messages, {t.name for t in tools or ()})
        finish = "tool_calls" if calls else "stop"
        if max_tokens is not None and estimate_tokens(text) > max_tokens:
            text, finish = text[: max(max_tokens, 1) * 4], "length"
        if on_text is not None:
            for chunk in re.findall(r"\s*\S+\s*", text):
                on_text(chunk)
                await asyncio.sleep(0)
        prompt = "".join(m.content + _calls_text(m.tool_calls) for m in messages)
        prompt += "".join(t.name + t.description + json.dumps(t.parameters) for t in tools or ())
        output = text + _calls_text(calls)
        usage = Usage(input_tokens=estimate_tokens(prompt), output_tokens=estimate_tokens(output))
        return AssistantMessage(
            content=text,
            tool_calls=tuple(calls),
            usage=usage,
            model=self.model,
            finish_reason=finish,
        )

    def _respond(self, messages: list[ChatMessage], tools: set[str]) -> tuple[str, list[ToolCall]]:
        """Pick the behaviour: selector, aggregator, tool round trip, or a plain answer."""
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
        request = messages[last_user].content if last_user >= 0 else ""
        if protocol.SELECTOR_HEADER in system:
            return select_next(system, request), []
        if protocol.AGGREGATOR_HEADER in system:
            return aggregate(request), []
        tail = messages[last_user + 1 :]
        if any(m.role == "tool" for m in tail):
            return answer_from_tools(tail), []
        spoke_before = any(m.role == "assistant" for m in messages[:last_user])
        if spoke_before and protocol.parse_sections(request):
            return protocol.DONE, []  # a team member with nothing new to add
        call_id = f"call_{sum(len(m.tool_calls) for m in messages) + 1}"
        call = detect_tool_call(protocol.task_of(request), tools, call_id)
        if call:
            return "", [call]
        return plain_answer(system, request), []
