"""Recharts wrappers in the theme's colours, so charts follow light and dark mode."""

from __future__ import annotations

from typing import Any

import reflex as rx

CHART_HEIGHT = 240
RUN_SERIES = (
    ("succeeded", "Succeeded", "grass"),
    ("failed", "Failed", "tomato"),
    ("timed_out", "Timed out", "orange"),
    ("cancelled", "Cancelled", "gray"),
)


def _axes(x_key: str, *, decimals: bool = False) -> list[rx.Component]:
    tick = {"fill": rx.color("gray", 10), "fontSize": 12}
    return [
        rx.recharts.cartesian_grid(
            stroke_dasharray="3 3", stroke=rx.color("gray", 5), vertical=False
        ),
        rx.recharts.x_axis(
            data_key=x_key,
            tick=tick,
            tick_line=False,
            stroke=rx.color("gray", 7),
            min_tick_gap=12,
        ),
        rx.recharts.y_axis(
            tick=tick,
            tick_line=False,
            axis_line=False,
            allow_decimals=decimals,
            width=56,
        ),
        rx.recharts.graphing_tooltip(
            cursor={"fill": rx.color("gray", 3)},
            content_style={
                "background": "var(--color-panel-solid)",
                "border": f"1px solid {rx.color('gray', 6)}",
                "borderRadius": "var(--radius-3)",
                "boxShadow": "var(--shadow-3)",
                "fontSize": "12px",
            },
            label_style={"color": rx.color("gray", 12), "fontWeight": 600},
            item_style={"padding": "0"},
        ),
    ]


def _legend() -> rx.Component:
    return rx.hstack(
        *[
            rx.hstack(
                rx.box(width="8px", height="8px", border_radius="2px",
                       background=rx.color(color, 9)),
                rx.text(name, size="1", color_scheme="gray"),
                spacing="1", align="center",
            )
            for _, name, color in RUN_SERIES
        ],
        spacing="4", justify="center", width="100%", wrap="wrap", padding_top="0.25em",
    )  # fmt: skip


def runs_per_day_chart(data: rx.Var[list[dict[str, Any]]] | list[dict[str, Any]]) -> rx.Component:
    """Runs per day, stacked by how they ended."""
    return rx.box(
        rx.recharts.bar_chart(
            *_axes("day"),
            *[
                rx.recharts.bar(
                    data_key=key, name=name, stack_id="runs", fill=rx.color(color, 9),
                    max_bar_size=36, is_animation_active=False,
                )
                for key, name, color in RUN_SERIES
            ],
            data=data,
            height=CHART_HEIGHT,
            width="100%",
            margin={"top": 8, "right": 8, "left": -16, "bottom": 0},
        ),
        _legend(),
        width="100%",
        role="img",
        aria_label="Runs per day, by outcome",
    )  # fmt: skip


def cost_per_day_chart(data: rx.Var[list[dict[str, Any]]] | list[dict[str, Any]]) -> rx.Component:
    """Cost per day in dollars."""
    return rx.box(
        rx.recharts.area_chart(
            rx.el.defs(
                rx.el.linear_gradient(
                    rx.el.stop(offset="5%", stop_color=rx.color("accent", 9), stop_opacity=0.45),
                    rx.el.stop(offset="95%", stop_color=rx.color("accent", 9), stop_opacity=0.02),
                    id="cost-fill", x1="0", y1="0", x2="0", y2="1",
                )
            ),
            *_axes("day", decimals=True),
            rx.recharts.area(
                data_key="cost", name="Cost (USD)", type_="monotone",
                stroke=rx.color("accent", 9), stroke_width=2, fill="url(#cost-fill)",
                dot=False, is_animation_active=False,
            ),
            data=data,
            height=CHART_HEIGHT,
            width="100%",
            margin={"top": 8, "right": 8, "left": -8, "bottom": 0},
        ),
        width="100%",
        role="img",
        aria_label="Cost per day",
    )  # fmt: skip
