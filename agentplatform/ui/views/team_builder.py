"""The team builder page body: header and actions, members board, run section, form cards."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import empty_state, field, loading_state
from agentplatform.ui.components.dnd import dnd_board
from agentplatform.ui.components.team_panel import panel_card
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.state.team_builder import TeamBuilderState
from agentplatform.ui.state.team_run import TeamRunState
from agentplatform.ui.views.team_form import details_card, section, strategy_card, termination_card

S = TeamBuilderState
R = TeamRunState
CAN_WRITE = SessionState.permissions.contains("teams.write")
CAN_RUN = SessionState.permissions.contains("runs.create")


def _delete_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("trash-2", size=16), "Delete", color_scheme="red", variant="soft"),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this team?"),
            rx.alert_dialog.description(
                "“" + S.heading + "” is removed for everyone in the workspace. Its past runs "
                "keep their trace.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete team", color_scheme="red", on_click=S.delete),
                ),
                spacing="3", justify="end", margin_top="1em",
            ),
            max_width="28em",
        ),
    )  # fmt: skip


def header() -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Teams", size="2"),
                              spacing="1", align="center"),
                    href=routes.TEAMS, color_scheme="gray", underline="hover"),
            rx.hstack(
                rx.heading(S.heading, size="6", as_="h1"),
                rx.cond(~S.is_new, rx.badge("Version ", S.version, variant="surface",
                                            color_scheme="gray")),
                rx.cond(~CAN_WRITE, rx.badge(rx.icon("lock", size=12), "Read only",
                                             color_scheme="gray", variant="soft")),
                spacing="3", align="center", wrap="wrap",
            ),
            spacing="1", align="start",
        ),
        rx.spacer(),
        rx.cond(
            CAN_WRITE,
            rx.hstack(
                rx.cond(S.dirty, rx.badge(rx.icon("circle-dot", size=12), "Unsaved changes",
                                          color_scheme="amber", variant="soft", size="2")),
                rx.cond(~S.is_new, _delete_button()),
                rx.button(rx.icon("save", size=16), rx.cond(S.is_new, "Create team", "Save"),
                          on_click=S.save, loading=S.saving),
                spacing="3", align="center",
            ),
        ),
        width="100%", align="end", wrap="wrap", spacing="3", padding_bottom="1em",
    )  # fmt: skip


def stale_notice() -> rx.Component:
    return rx.cond(
        S.stale != "",
        rx.callout(
            rx.hstack(
                rx.text(S.stale, " Reloading discards your unsaved changes here."),
                rx.button(rx.icon("rotate-ccw", size=14), "Reload team", size="1",
                          variant="soft", color_scheme="amber", on_click=S.load),
                spacing="3", align="center", wrap="wrap", justify="between", width="100%",
            ),
            icon="triangle-alert", color_scheme="amber", role="alert", width="100%",
        ),
    )  # fmt: skip


def _read_only_member(name: rx.Var[str], index: rx.Var[int]) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.badge(index + 1, variant="soft", radius="full"),
            rx.text(name, size="2", weight="medium"),
            spacing="2", align="center",
        ),
        style={"list_style": "none"},
    )  # fmt: skip


def _read_only_members() -> rx.Component:
    return rx.cond(
        S.member_names.length() == 0,
        rx.text("No members.", size="2", color_scheme="gray"),
        rx.el.ol(
            rx.foreach(S.member_names, _read_only_member),
            aria_label="Members", style={"padding": "0", "margin": "0", "display": "grid",
                                         "gap": "var(--space-2)"},
        ),
    )  # fmt: skip


def members_card() -> rx.Component:
    error = S.errors.get("members", "").to(str)
    return section(
        "Members",
        rx.cond(CAN_WRITE, "Drag agents from the workspace into the team, then drag them into "
                "order.", "The agents of the team, in speaking order."),
        rx.cond(
            CAN_WRITE,
            dnd_board(S.board, on_move=S.move_member, on_remove=S.remove_member,
                      id="team-members-board"),
            _read_only_members(),
        ),
        rx.cond(error != "", rx.text(error, size="1", color_scheme="red", role="alert")),
        rx.cond(
            CAN_WRITE & (S.agents.length() == 0),
            rx.callout(rx.hstack(rx.text("Create an agent first, then come back."),
                                 rx.link("Go to agents", href=routes.AGENTS), spacing="2"),
                       icon="info", width="100%"),
        ),
    )  # fmt: skip


def run_card() -> rx.Component:
    return section(
        "Run team", "Start a run of the saved team on a task and follow it live.",
        rx.cond(
            S.is_new,
            rx.text("Save the team first; then you can run it from here.", size="2",
                    color_scheme="gray"),
            rx.vstack(
                field("Task", rx.text_area(
                          id="team-run-task", value=R.task, rows="4", width="100%",
                          placeholder="What should the team work on?", on_change=R.set_task),
                      field_id="team-run-task", error=R.task_error),
                rx.cond(S.dirty, rx.text("The run uses the last saved version, without your "
                                         "unsaved changes.", size="1", color_scheme="amber")),
                rx.button(rx.icon("play", size=16), "Run", on_click=R.start_run,
                          loading=R.starting, width="100%"),
                spacing="3", width="100%",
            ),
        ),
    )  # fmt: skip


def side_column() -> rx.Component:
    """The team as the list will show it, and the run section."""
    return rx.vstack(
        rx.vstack(
            rx.text("Preview", size="1", weight="bold", color_scheme="gray",
                    letter_spacing="0.06em", text_transform="uppercase"),
            panel_card(S.preview),
            spacing="2", width="100%",
        ),
        rx.cond(CAN_RUN, run_card()),
        spacing="4", width="100%", position="sticky", top="72px",
    )  # fmt: skip


def team_builder() -> rx.Component:
    return rx.cond(
        S.loading,
        loading_state("Loading team…"),
        rx.cond(
            S.missing != "",
            empty_state("users", "Team not found", S.missing,
                        rx.link(rx.button("Back to teams"), href=routes.TEAMS)),
            rx.vstack(
                header(),
                stale_notice(),
                rx.grid(
                    rx.vstack(details_card(), members_card(), strategy_card(),
                              termination_card(), spacing="4", width="100%", min_width="0"),
                    rx.box(side_column(), height="100%"),
                    columns=rx.breakpoints(initial="1", lg="minmax(0, 2fr) minmax(280px, 1fr)"),
                    spacing="4", width="100%", align_items="start",
                ),
                spacing="4", width="100%",
            ),
        ),
    )  # fmt: skip
