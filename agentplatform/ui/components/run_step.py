"""One step of a run's trace, the live text still streaming, and the numbers' formats.

`step_view` turns a `RunStepPublic` into the plain dict the components read (display
strings computed once, in Python); `run_step` draws one such dict, `run_trace` a list.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import reflex as rx

from agentplatform.models.run import RunStepPublic
from agentplatform.ui.components.markdown import safe_markdown

KIND_LABELS = {
    "message": "Message",
    "tool_call": "Tool call",
    "tool_result": "Tool result",
    "handoff": "Selector",
    "error": "Error",
}


def format_cost(value: float | None) -> str:
    """Dollars, with enough digits for the fractions of a cent that LLM calls cost."""
    if not value:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01:
        return f"${value:.3f}"
    return f"${value:.6f}".rstrip("0")


def format_ms(value: float | None) -> str:
    """A latency: milliseconds below a second, else seconds."""
    if value is None:
        return "—"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"


def format_tokens(value: int | None) -> str:
    value = value or 0
    return f"{value / 1000:.1f}k" if value >= 10_000 else f"{value:,}"


def format_time(value: str | datetime | None, *, with_date: bool = True) -> str:
    """A stored UTC time, shortly (the header shows its time zone)."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def step_view(step: RunStepPublic) -> dict[str, Any]:
    """The step's public fields plus the strings `run_step` shows."""
    data = step.model_dump(mode="json")
    usage = step.input_tokens or step.output_tokens
    data.update(
        agent=step.agent_name or "Run",
        label=KIND_LABELS.get(step.kind, step.kind),
        args_json=json.dumps(step.tool_args, indent=2, ensure_ascii=False)
        if step.tool_args is not None
        else "",
        tokens=f"{step.input_tokens:,} in · {step.output_tokens:,} out" if usage else "",
        cost=format_cost(step.cost_usd) if step.cost_usd else "",
        latency=format_ms(step.latency_ms) if step.latency_ms else "",
        model=step.model or "",
        time=format_time(step.created_at, with_date=False),
    )
    return data


def _icon(kind: rx.Var[str]) -> rx.Component:
    def badge(icon: str, color: str) -> rx.Component:
        return rx.center(
            rx.icon(icon, size=16, color=rx.color(color, 11)),
            width="32px",
            height="32px",
            border_radius="50%",
            background=rx.color(color, 3),
            border=f"1px solid {rx.color(color, 6)}",
            flex_shrink="0",
        )

    return rx.match(
        kind,
        ("message", badge("message-square", "accent")),
        ("tool_call", badge("wrench", "blue")),
        ("tool_result", badge("corner-down-right", "teal")),
        ("handoff", badge("shuffle", "amber")),
        ("error", badge("triangle-alert", "red")),
        badge("circle", "gray"),
    )


def _meta(text: rx.Var[Any], icon: str, title: str) -> rx.Component:
    return rx.cond(
        text != "",
        rx.hstack(
            rx.icon(icon, size=12),
            rx.text(text, size="1"),
            spacing="1",
            align="center",
            color=rx.color("gray", 10),
            title=title,
        ),
    )


def code_box(text: rx.Var[Any] | str, label: str) -> rx.Component:
    """Monospace text (JSON, tool output) that keeps its line breaks and scrolls sideways."""
    return rx.el.pre(
        rx.el.code(text),
        aria_label=label,
        style={
            "margin": "0",
            "padding": "0.75em 1em",
            "background": rx.color("gray", 2),
            "border": f"1px solid {rx.color('gray', 5)}",
            "border_radius": "var(--radius-3)",
            "font_family": "var(--code-font-family)",
            "font_size": "12.5px",
            "line_height": "1.5",
            "white_space": "pre-wrap",
            "word_break": "break-word",
            "overflow_x": "auto",
            "max_height": "320px",
            "overflow_y": "auto",
            "width": "100%",
        },
    )


MARKDOWN_STYLE = {
    "font_size": "var(--font-size-2)",
    "line_height": "var(--line-height-2)",
    "& p, & li": {"font_size": "var(--font-size-2)", "margin": "0.2em 0"},
    "& p:first-child": {"margin_top": "0"},
    "& pre": {"background": rx.color("gray", 2), "padding": "0.75em", "overflow_x": "auto",
              "border_radius": "var(--radius-3)"},
    "& h1, & h2, & h3": {"font_size": "var(--font-size-3)", "margin": "0.5em 0 0.25em"},
}  # fmt: skip


def markdown_box(text: rx.Var[str]) -> rx.Component:
    """Model text as markdown (never as live HTML), at the size of the text around it."""
    return rx.box(
        safe_markdown(text),
        width="100%",
        min_width="0",
        style=MARKDOWN_STYLE,
        class_name="untrusted-content",
    )


def _body(step: rx.Var[dict[str, Any]]) -> rx.Component:
    content = step["content"].to(str)
    return rx.match(
        step["kind"].to(str),
        ("message", markdown_box(content)),
        ("tool_call", code_box(step["args_json"], "Tool arguments")),
        ("tool_result", code_box(content, "Tool result")),
        (
            "handoff",
            rx.hstack(
                rx.icon("quote", size=14, color=rx.color("amber", 11), flex_shrink="0"),
                rx.text(content, size="2", style={"font_style": "italic"}),
                spacing="2",
                align="start",
                padding="0.6em 0.9em",
                background=rx.color("amber", 2),
                border_left=f"3px solid {rx.color('amber', 9)}",
                border_radius="var(--radius-2)",
                width="100%",
                aria_label="Selector's reason",
            ),
        ),
        ("error", rx.callout(content, icon="circle-x", color_scheme="red", size="1", width="100%")),
        rx.text(content, size="2"),
    )


def run_step(step: rx.Var[dict[str, Any]]) -> rx.Component:
    """One trace step: who, what kind, its content, and what it cost."""
    kind = step["kind"].to(str)
    tool = step["tool_name"].to(str)
    return rx.hstack(
        _icon(kind),
        rx.vstack(
            rx.hstack(
                rx.text(step["agent"], weight="bold", size="2"),
                rx.badge(
                    step["label"],
                    variant="soft",
                    size="1",
                    color_scheme=rx.match(
                        kind,
                        ("tool_call", "blue"),
                        ("tool_result", "teal"),
                        ("handoff", "amber"),
                        ("error", "red"),
                        "gray",
                    ),
                ),
                rx.cond(tool != "", rx.code(tool, size="1", variant="ghost")),
                rx.spacer(),
                rx.text(step["time"], size="1", color=rx.color("gray", 9)),
                width="100%",
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            _body(step),
            rx.hstack(
                _meta(step["model"], "cpu", "Model"),
                _meta(step["tokens"], "coins", "Tokens in and out"),
                _meta(step["cost"], "dollar-sign", "Cost"),
                _meta(step["latency"], "timer", "Latency"),
                spacing="4",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
            min_width="0",
            align="start",
        ),
        spacing="3",
        align="start",
        width="100%",
        padding_y="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        data_kind=kind,
        class_name="run-step",
    )


def _live(entry: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.center(rx.spinner(size="2"), width="32px", height="32px", flex_shrink="0"),
        rx.vstack(
            rx.hstack(
                rx.text(entry["agent"], weight="bold", size="2"),
                rx.badge("writing…", variant="soft", size="1"),
                spacing="2",
                align="center",
            ),
            rx.text(entry["text"], size="2", white_space="pre-wrap"),
            spacing="1",
            align="start",
            width="100%",
        ),
        spacing="3",
        width="100%",
        padding_y="0.75em",
        aria_live="polite",
        aria_label="Live output",
    )


def run_trace(
    steps: rx.Var[list[dict[str, Any]]], live: rx.Var[list[dict[str, str]]], waiting: rx.Var[bool]
) -> rx.Component:
    """The whole trace, then whatever is still being written, then a waiting hint."""
    return rx.vstack(
        rx.foreach(steps, run_step),
        rx.foreach(live, _live),
        rx.cond(
            waiting & (live.length() == 0),
            rx.hstack(
                rx.spinner(size="1"),
                rx.text("Working…", size="2", color_scheme="gray"),
                spacing="2",
                align="center",
                padding_y="0.75em",
            ),
        ),
        spacing="0",
        width="100%",
        role="log",
        aria_label="Run trace",
    )


def _total(label: str, value: rx.Var[Any]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", white_space="nowrap"),
        rx.text(value, size="3", weight="bold", white_space="nowrap"),
        spacing="0",
        align="start",
    )


def run_totals(totals: rx.Var[dict[str, str]]) -> rx.Component:
    """Tokens, cost, latency and steps of a run, in one row."""
    return rx.grid(
        _total("Tokens in", totals["tokens_in"]),
        _total("Tokens out", totals["tokens_out"]),
        _total("Cost", totals["cost"]),
        _total("Latency", totals["latency"]),
        _total("Steps", totals["steps"]),
        columns="repeat(auto-fit, minmax(84px, 1fr))",
        spacing="3",
        width="100%",
        aria_label="Run totals",
        role="group",
    )
