"""The render preview: one input per variable of a version, then the text it renders to."""

from __future__ import annotations

from typing import cast

import reflex as rx
from reflex.vars.object import ObjectVar

from agentplatform.ui.components.common import empty_state
from agentplatform.ui.state.prompt_render import PromptRenderState
from agentplatform.ui.views.prompt_history import code_box

State = PromptRenderState


def _variable_input(name: rx.Var[str]) -> rx.Component:
    field_id = "render-var-" + name
    values = cast("ObjectVar[dict[str, str]]", State.render_values)
    return rx.vstack(
        rx.el.label(rx.text(name, size="2", weight="medium", font_family="var(--code-font-family)"),
                    html_for=field_id),
        rx.text_area(id=field_id, value=values.get(name, ""),
                     on_change=lambda value: State.set_render_value(name, value),
                     rows="2", resize="vertical", width="100%"),
        spacing="1",
        width="100%",
    )  # fmt: skip


def _inputs() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.el.label(rx.text("Version to render", size="2", weight="medium"),
                        html_for="render-version"),
            rx.select.root(
                rx.select.trigger(id="render-version", width="100%",
                                  aria_label="Version to render"),
                rx.select.content(
                    rx.foreach(State.version_options,
                               lambda o: rx.select.item(o["label"], value=o["value"])),
                ),
                value=State.render_version,
                on_change=State.set_render_version,
            ),
            spacing="1",
            width="100%",
        ),
        rx.cond(
            State.render_variables.length() > 0,
            rx.vstack(rx.foreach(State.render_variables, _variable_input), spacing="3",
                      width="100%"),
            rx.text("This version has no variables: it renders as written.", size="2",
                    color_scheme="gray"),
        ),
        rx.text("A blank input counts as missing.", size="1", color_scheme="gray"),
        rx.button(rx.icon("play", size=16), "Render", on_click=State.render,
                  loading=State.rendering),
        spacing="4",
        width="100%",
        align="start",
    )  # fmt: skip


def _output() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Rendered text", size="2", weight="medium"),
            rx.cond(State.rendered_version > 0,
                    rx.badge("v", State.rendered_version, variant="soft", color_scheme="gray")),
            spacing="2",
            align="center",
        ),
        rx.cond(
            State.render_error != "",
            rx.callout(State.render_error, icon="circle-alert", color_scheme="red",
                       role="alert", width="100%"),
            rx.cond(
                State.rendered != "",
                code_box(State.rendered, id="rendered-text", max_height="60vh",
                         aria_label="Rendered text"),
                rx.center(
                    rx.text("Fill in the variables and press Render.", size="2",
                            color_scheme="gray"),
                    padding_y="3em", width="100%",
                    border=f"1px dashed {rx.color('gray', 6)}",
                    border_radius="var(--radius-3)",
                ),
            ),
        ),
        spacing="2",
        width="100%",
    )  # fmt: skip


def prompt_render() -> rx.Component:
    return rx.cond(
        State.versions.length() > 0,
        rx.grid(
            _inputs(),
            _output(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="5",
            width="100%",
        ),
        empty_state("play", "Nothing to render yet", "Save a version first, then preview it here."),
    )
