"""Account settings: profile, persona and password."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.common import field, page_header
from agentplatform.ui.layout import private_page
from agentplatform.ui.pages.onboarding import PERSONAS
from agentplatform.ui.state.settings import SettingsState


def _error(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle-alert", color_scheme="red", role="alert", width="100%"),
    )


def _profile_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Profile", size="4"),
                _error(SettingsState.profile_error),
                field("Email", rx.input(id="settings-email", value=SettingsState.email,
                                        read_only=True, variant="soft"),
                      field_id="settings-email"),
                field("Full name", rx.input(id="settings-name", name="full_name",
                                            default_value=SettingsState.full_name),
                      field_id="settings-name"),
                field(
                    "Persona",
                    rx.select.root(
                        rx.select.trigger(id="settings-persona", width="100%"),
                        rx.select.content(*[rx.select.item(p[2], value=p[0]) for p in PERSONAS]),
                        name="persona",
                        default_value=SettingsState.persona,
                    ),
                    field_id="settings-persona",
                    hint="Orders your dashboard and landing page.",
                ),
                rx.button("Save profile", type="submit"),
                spacing="3", align="start", width="100%",
            ),
            on_submit=SettingsState.save_profile,
        ),
        size="3", width="100%",
    )  # fmt: skip


def _password_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Password", size="4"),
                _error(SettingsState.password_error),
                field("Current password", rx.input(id="pw-current", name="current_password",
                      type="password", auto_complete="current-password", required=True),
                      field_id="pw-current"),
                field("New password", rx.input(id="pw-new", name="new_password", type="password",
                      auto_complete="new-password", required=True),
                      field_id="pw-new",
                      hint="At least 10 characters, with a letter and a digit or symbol."),
                field("Confirm new password", rx.input(id="pw-confirm", name="confirm_password",
                      type="password", auto_complete="new-password", required=True),
                      field_id="pw-confirm"),
                rx.button("Change password", type="submit", color_scheme="gray"),
                spacing="3", align="start", width="100%",
            ),
            on_submit=SettingsState.change_password,
            reset_on_submit=True,
        ),
        size="3", width="100%",
    )  # fmt: skip


@private_page(routes.SETTINGS, "Settings")
def settings_page() -> rx.Component:
    return rx.vstack(
        page_header("Settings", "Your account in every workspace."),
        rx.grid(_profile_card(), _password_card(), columns=rx.breakpoints(initial="1", lg="2"),
                spacing="5", width="100%"),
        width="100%",
    )  # fmt: skip
