"""The confirm dialog that promotes a version to a label or rolls a label back."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui.components.common import field
from agentplatform.ui.state.prompt_labels import PromptLabelsState

State = PromptLabelsState


def _summary() -> rx.Component:
    target = "v" + State.label_target.to(str)
    current = "v" + State.label_current.to(str)
    name = rx.text.strong(State.label_name)
    return rx.match(
        State.label_kind,  # each branch one paragraph, so it reads as a sentence
        ("new", rx.text("The label ", name, " will be created and point at ", target, ".")),
        ("same", rx.text(name, " already points at ", target, ": nothing to change.")),
        ("rollback", rx.text("Roll ", name, " back from ", current, " to ", target,
                             ". Agents that use ", name, " get ", target,
                             " from their next run.")),
        rx.text("Move ", name, " from ", current, " to ", target, ". Agents that use ", name,
                " get ", target, " from their next run."),
    )  # fmt: skip


def _callout(icon: str, color: str) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon(icon, size=16)), _summary(), color_scheme=color, width="100%"
    )


def _label_picker() -> rx.Component:
    return rx.vstack(
        field(
            "Label",
            rx.input(id="label-name", value=State.label_name, on_change=State.set_label_name,
                     max_length=40, placeholder="staging"),
            field_id="label-name",
            hint="Lowercase letters, digits, '.', '_' or '-'. 'latest' is automatic.",
        ),
        rx.hstack(
            *[
                rx.button(name, size="1", variant="soft", color_scheme="gray", type="button",
                          on_click=State.set_label_name(name))
                for name in ("production", "staging", "canary")
            ],
            spacing="2",
        ),
        spacing="2",
        width="100%",
    )  # fmt: skip


def label_dialog() -> rx.Component:
    rollback = State.label_kind == "rollback"
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                rx.cond(rollback, "Roll back ", "Promote to "), State.label_name, "?"
            ),
            rx.vstack(
                rx.cond(State.label_free, _label_picker()),
                rx.cond(
                    rollback,
                    _callout("undo-2", "orange"),
                    _callout("rocket", "green"),
                ),
                rx.cond(
                    State.label_error != "",
                    rx.callout(State.label_error, icon="circle-alert", color_scheme="red",
                               role="alert", width="100%"),
                ),
                rx.text("The change is recorded in the audit log.", size="1",
                        color_scheme="gray"),
                spacing="3",
                width="100%",
                padding_y="0.5em",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    rx.cond(rollback, "Roll back", "Promote"),
                    color_scheme=rx.cond(rollback, "orange", "green"),
                    on_click=State.confirm_move,
                    loading=State.moving,
                    disabled=State.label_kind == "same",
                ),
                justify="end",
                spacing="3",
                width="100%",
            ),
            max_width="480px",
        ),
        open=State.label_open,
        on_open_change=State.set_label_open,
    )  # fmt: skip
