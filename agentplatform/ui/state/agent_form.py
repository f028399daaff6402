"""The agent editor's form as plain data: defaults, parsing into Create/Update shapes, errors.

No Reflex here: the editor state keeps the form as a `dict[str, str]` (one entry per control)
and these functions turn it into what the agents service takes, and errors back into a
message per form field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from agentplatform.core.errors import AppError
from agentplatform.models.agent import AgentCreate, AgentUpdate
from agentplatform.ui.components.dnd import DndContainer, DndItem

# The provider select's value for the built-in offline model (not a provider row).
BUILTIN = "builtin-offline"
OFFLINE_MODEL = "offline-demo"
BUILTIN_LABEL = "Offline demo model (built in, no network)"

BLANK: dict[str, str] = {
    "name": "",
    "description": "",
    "provider": BUILTIN,
    "model": OFFLINE_MODEL,
    "source": "inline",
    "instructions": "",
    "prompt_id": "",
    "prompt_ref": "label:latest",
    "temperature": "0.7",
    "max_tokens": "",
    "max_iterations": "6",
    "timeout_s": "120",
    "tags": "",
}

# One clear message per numeric field, whatever pydantic's complaint was.
FRIENDLY: dict[str, str] = {
    "temperature": "Temperature must be a number from 0 to 2.",
    "max_tokens": "Max tokens must be a whole number from 1 to 200000, or empty.",
    "max_iterations": "Max iterations must be a whole number from 1 to 50.",
    "timeout_s": "Timeout must be more than 0 and at most 3600 seconds.",
    "prompt_ref": "Choose a label or a version of the prompt.",
}
# Service/shape field names that a different control stands for.
CONTROL_FOR: dict[str, str] = {
    "provider_id": "provider",
    "prompt_label": "prompt_ref",
    "prompt_version": "prompt_ref",
}


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def form_from_agent(agent: dict[str, Any]) -> dict[str, str]:
    """The form showing a saved agent (its `AgentPublic` dump)."""
    if agent.get("prompt_version"):
        prompt_ref = f"version:{agent['prompt_version']}"
    else:
        prompt_ref = f"label:{agent.get('prompt_label') or 'latest'}"
    return {
        "name": agent["name"],
        "description": agent["description"],
        "provider": agent["provider_id"] or BUILTIN,
        "model": agent["model"],
        "source": "prompt" if agent.get("prompt_id") else "inline",
        "instructions": agent["instructions"],
        "prompt_id": agent.get("prompt_id") or "",
        "prompt_ref": prompt_ref,
        "temperature": _number(agent["temperature"]),
        "max_tokens": _number(agent["max_tokens"]),
        "max_iterations": str(agent["max_iterations"]),
        "timeout_s": _number(agent["timeout_s"]),
        "tags": ", ".join(agent["tags"]),
    }


def _payload(form: dict[str, str], tools: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields for the shapes, and the messages of checks the shapes cannot make."""
    errors: dict[str, str] = {}
    if not form["name"].strip():
        errors["name"] = "Give the agent a name."
    if not form["model"].strip():
        errors["model"] = "Choose or type the model to use."
    payload: dict[str, Any] = {
        "name": form["name"],
        "description": form["description"],
        "provider_id": None if form["provider"] == BUILTIN else form["provider"],
        "model": form["model"].strip() or None,
        "temperature": form["temperature"].strip(),
        "max_tokens": form["max_tokens"].strip() or None,
        "max_iterations": form["max_iterations"].strip(),
        "timeout_s": form["timeout_s"].strip(),
        "tools": list(tools),
        "tags": [t for t in (p.strip() for p in form["tags"].split(",")) if t],
        "instructions": "",
        "prompt_id": None,
        "prompt_label": None,
        "prompt_version": None,
    }
    if form["source"] == "inline":
        payload["instructions"] = form["instructions"]
        return payload, errors
    if not form["prompt_id"]:
        errors["prompt_id"] = "Choose the prompt to take the instructions from."
        return payload, errors
    payload["prompt_id"] = form["prompt_id"]
    kind, _, value = form["prompt_ref"].partition(":")
    if kind == "version" and value.isdigit():
        payload["prompt_version"] = int(value)
    elif kind == "label" and value:
        payload["prompt_label"] = value
    else:
        errors["prompt_ref"] = FRIENDLY["prompt_ref"]
    return payload, errors


def build(
    form: dict[str, str], tools: list[str], *, update: bool
) -> tuple[BaseModel | None, dict[str, str]]:
    """An `AgentUpdate` (every field set) or `AgentCreate`, or the messages per field."""
    payload, errors = _payload(form, tools)
    try:
        shape: BaseModel = (AgentUpdate if update else AgentCreate).model_validate(payload)
    except ValidationError as error:
        errors = {**validation_errors(error), **errors}
    return (None, errors) if errors else (shape, {})


def validation_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as one message per form control (the first for each)."""
    messages: dict[str, str] = {}
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        field = CONTROL_FOR.get(loc[0], loc[0]) if loc else "form"
        if field == "name" and item["type"] == "string_too_short":
            message = "Give the agent a name."
        else:
            message = FRIENDLY.get(field) or str(item["msg"]).removeprefix("Value error, ")
        messages.setdefault(field, message)
    return messages


def service_errors(error: AppError) -> dict[str, str]:
    """A service error as messages per control; what names no control goes under "form"."""
    details = error.details
    if isinstance(details, dict) and isinstance(details.get("field"), str):
        details = [{"field": details["field"], "message": error.message}]
    if not isinstance(details, list):
        return {"form": error.message}
    messages: dict[str, str] = {}
    for item in details:
        if not isinstance(item, dict):
            continue
        name = str(item.get("field", "form")).split(".")[0]
        field = CONTROL_FOR.get(name, name if name in BLANK or name == "tools" else "form")
        message = error.message if field == "name" else str(item.get("message") or error.message)
        if len(message) < 40:  # terse details ("cannot be null"): the full sentence is clearer
            message = error.message
        messages.setdefault(field, message)
    return messages or {"form": error.message}


def model_options(providers: list[dict[str, Any]], provider: str) -> list[str]:
    """The models the chosen provider lists (empty: the model is typed in)."""
    if provider == BUILTIN:
        return [OFFLINE_MODEL]
    for item in providers:
        if item["id"] == provider:
            models = list(item["models"])
            return models or ([OFFLINE_MODEL] if item["kind"] == "offline" else [])
    return []


def prompt_refs(prompts: list[dict[str, Any]], prompt_id: str) -> tuple[list[Any], list[Any]]:
    """The chosen prompt's (label options, version options) as {value, text} pairs."""
    prompt = next((p for p in prompts if p["id"] == prompt_id), None)
    if prompt is None:
        return [], []
    labels = dict(prompt["labels"]) or {"latest": 0}
    label_options = [
        {"value": f"label:{name}", "text": f"{name} (v{number})" if number else name}
        for name, number in sorted(labels.items(), key=lambda kv: (kv[0] != "latest", kv[0]))
    ]
    latest = int(prompt.get("latest_version") or 0)
    version_options = [
        {"value": f"version:{n}", "text": f"Version {n}"} for n in range(latest, 0, -1)
    ]
    return label_options, version_options


def provider_label(providers: list[dict[str, Any]], provider: str) -> str:
    if provider == BUILTIN:
        return BUILTIN_LABEL
    return next((f"{p['name']} · {p['kind']}" for p in providers if p["id"] == provider), "")


def prompt_text(prompts: list[dict[str, Any]], form: dict[str, str]) -> str:
    """The prompt reference in words, e.g. "From the prompt 'triage', label 'production'."."""
    prompt = next((p for p in prompts if p["id"] == form.get("prompt_id")), None)
    if prompt is None:
        return ""
    kind, _, value = form.get("prompt_ref", "").partition(":")
    which = f"version {value}" if kind == "version" else f"label '{value}'"
    return f"From the prompt '{prompt['name']}', {which}."


def tool_board(catalog: list[dict[str, Any]], tools: list[str]) -> list[DndContainer]:
    """The registry's tools as a palette and the agent's own list as the drop target."""
    known = {t["name"]: t for t in catalog}

    def sublabel(name: str) -> str:
        tool = known.get(name)
        if tool is None:
            return "Unknown tool"
        if tool["available"]:
            return str(tool["description"])
        return f"Unavailable: {tool['unavailable_reason']}"

    palette: list[DndItem] = [
        {"id": n, "label": n, "sublabel": sublabel(n), "disabled": n in tools} for n in known
    ]
    chosen: list[DndItem] = [{"id": n, "label": n, "sublabel": sublabel(n)} for n in tools]
    return [
        {"id": "palette", "title": "Available tools", "role": "palette", "items": palette,
         "description": "Drag a tool onto the agent's list (or focus it and press Space)."},
        {"id": "tools", "title": "Tools", "role": "target", "items": chosen,
         "empty_text": "Drag tools here", "description": "The tools this agent may call."},
    ]  # fmt: skip
