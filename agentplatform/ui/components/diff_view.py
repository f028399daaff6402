"""A side-by-side diff: old text left, new text right; removed red, added green, rest grey.

`side_by_side(lines)` turns the line list of `services.prompt_versions.diff_texts` into rows
(`old_no`, `old_text`, `old_op`, `new_no`, `new_text`, `new_op`, all strings; an op is
"removed", "added", "unchanged" or "empty"), and `diff_view(rows, …)` renders them. Cells carry
`data-side` ("old"/"new") and `data-op` so tests and styles can find them.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

MONO = "var(--code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace)"


def _cell(line: dict[str, Any] | None, side: str, op: str) -> dict[str, str]:
    if line is None:
        return {f"{side}_no": "", f"{side}_text": "", f"{side}_op": "empty"}
    number = line["old"] if side == "old" else line["new"]
    return {f"{side}_no": str(number), f"{side}_text": str(line["text"]), f"{side}_op": op}


def side_by_side(lines: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pair each block of removed lines with the added lines that replace it."""
    rows: list[dict[str, str]] = []
    removed: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []

    def flush() -> None:
        for k in range(max(len(removed), len(added))):
            left = removed[k] if k < len(removed) else None
            right = added[k] if k < len(added) else None
            rows.append(_cell(left, "old", "removed") | _cell(right, "new", "added"))
        removed.clear()
        added.clear()

    for line in lines:
        if line["op"] == "-":
            removed.append(line)
        elif line["op"] == "+":
            added.append(line)
        else:
            flush()
            rows.append(_cell(line, "old", "unchanged") | _cell(line, "new", "unchanged"))
    flush()
    return rows


def _tone(op: rx.Var, removed: Any, added: Any, unchanged: Any, empty: Any) -> rx.Var:
    return rx.match(op, ("removed", removed), ("added", added), ("empty", empty), unchanged)


def _side(row: rx.Var[dict[str, str]], side: str) -> list[rx.Component]:
    op = row[f"{side}_op"]
    number_cell = rx.el.td(
        row[f"{side}_no"],
        text_align="right",
        padding_x="0.6em",
        color=_tone(op, rx.color("red", 11), rx.color("green", 11), rx.color("gray", 9), ""),
        background=_tone(
            op, rx.color("red", 4), rx.color("green", 4), rx.color("gray", 2), rx.color("gray", 3)
        ),
        user_select="none",
        vertical_align="top",
        border_left=f"1px solid {rx.color('gray', 5)}" if side == "new" else "none",
    )
    sign_cell = rx.el.td(
        _tone(op, "\u2212", "+", "", ""),
        aria_hidden="true",
        text_align="center",
        color=_tone(op, rx.color("red", 11), rx.color("green", 11), "", ""),
        background=_tone(op, rx.color("red", 3), rx.color("green", 3), "", rx.color("gray", 3)),
        user_select="none",
        vertical_align="top",
    )
    text_cell = rx.el.td(
        row[f"{side}_text"],
        data_side=side,
        data_op=op,
        white_space="pre-wrap",
        word_break="break-word",
        padding_right="0.75em",
        color=_tone(
            op,
            rx.color("red", 12),
            rx.color("green", 12),
            rx.color("gray", 11),
            rx.color("gray", 11),
        ),
        background=_tone(op, rx.color("red", 3), rx.color("green", 3), "", rx.color("gray", 3)),
        vertical_align="top",
    )
    return [number_cell, sign_cell, text_cell]


def _header(title: rx.Var[str] | str, side: str) -> rx.Component:
    return rx.el.th(
        title,
        col_span=3,
        scope="col",
        text_align="left",
        padding="0.5em 0.75em",
        font_weight="600",
        font_size="13px",
        color=rx.color("gray", 12),
        background=rx.color("gray", 3),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        border_left=f"1px solid {rx.color('gray', 5)}" if side == "new" else "none",
    )


def diff_view(
    rows: rx.Var[list[dict[str, str]]],
    *,
    old_title: rx.Var[str] | str,
    new_title: rx.Var[str] | str,
    label: rx.Var[str] | str = "Side-by-side diff",
) -> rx.Component:
    """Two columns of numbered lines, monospace, readable in light and dark mode."""
    widths = ["3.5em", "1.5em", "auto", "3.5em", "1.5em", "auto"]
    return rx.box(
        rx.el.table(
            rx.el.colgroup(*[rx.el.col(width=w) for w in widths]),
            rx.el.thead(rx.el.tr(_header(old_title, "old"), _header(new_title, "new"))),
            rx.el.tbody(
                rx.foreach(rows, lambda row: rx.el.tr(*_side(row, "old"), *_side(row, "new")))
            ),
            aria_label=label,
            width="100%",
            table_layout="fixed",
            border_collapse="collapse",
            font_family=MONO,
            font_size="13px",
            line_height="1.6",
        ),
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="var(--radius-3)",
        overflow="hidden",
        width="100%",
        background=rx.color("gray", 1),
    )
