"""Sign-in and registration pages: their forms post to the session API (HttpOnly cookies)."""

from __future__ import annotations

import reflex as rx

from agentplatform.ui import routes
from agentplatform.ui.components.browser_session import session_form
from agentplatform.ui.components.common import field
from agentplatform.ui.state.auth_forms import LoginState, RegisterState

SIGN_IN_API = "/api/auth/session"
SIGN_UP_API = "/api/auth/session/register"


def _auth_frame(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.icon("bot", size=28, color=rx.color("accent", 10)),
                rx.heading("AgentPlatform", size="6"),
                align="center",
                spacing="2",
            ),
            rx.card(
                rx.vstack(
                    rx.heading(title, size="5", as_="h1"),
                    rx.text(subtitle, size="2", color_scheme="gray"),
                    *children,
                    spacing="4",
                    width="100%",
                ),
                size="4",
                width="100%",
            ),
            rx.color_mode.button(aria_label="Toggle light and dark mode", variant="ghost"),
            spacing="5",
            align="center",
            width="100%",
            max_width="420px",
        ),
        min_height="100vh",
        padding="1em",
        background=rx.color("gray", 2),
    )


def _form_error(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle-alert", color_scheme="red", role="alert", width="100%"),
    )


@rx.page(
    route=routes.LOGIN,
    title="Sign in · AgentPlatform",
    on_load=LoginState.open,
)
def login_page() -> rx.Component:
    return _auth_frame(
        "Sign in",
        "Welcome back. Sign in to your workspace.",
        rx.cond(
            LoginState.signed_out_notice != "",
            rx.callout(LoginState.signed_out_notice, icon="info", color_scheme="gray",
                       width="100%"),
        ),
        _form_error(LoginState.login_error),
        session_form(
            rx.vstack(
                field(
                    "Email",
                    rx.input(id="login-email", name="email", type="email", size="3",
                             auto_complete="username", auto_focus=True, required=True),
                    field_id="login-email",
                ),
                field(
                    "Password",
                    rx.input(id="login-password", name="password", type="password", size="3",
                             auto_complete="current-password", required=True),
                    field_id="login-password",
                ),
                rx.button("Sign in", type="submit", size="3", width="100%",
                          loading=LoginState.submitting),
                spacing="4",
                width="100%",
            ),
            action=SIGN_IN_API,
            on_failure=LoginState.failed,
            on_busy=LoginState.busy,
            width="100%",
        ),
        rx.text(
            "New here? ",
            rx.link("Create an account", href=routes.REGISTER),
            size="2",
            color_scheme="gray",
        ),
    )  # fmt: skip


def _rule(rule: rx.Var[dict[str, str]]) -> rx.Component:
    state = rule["state"]
    return rx.hstack(
        rx.match(
            state,
            ("ok", rx.icon("circle-check", size=14, color=rx.color("green", 10))),
            ("bad", rx.icon("circle-x", size=14, color=rx.color("red", 10))),
            rx.icon("circle", size=14, color=rx.color("gray", 8)),
        ),
        rx.text(
            rule["rule"],
            size="1",
            color=rx.match(
                state, ("ok", rx.color("green", 11)), ("bad", rx.color("red", 11)),
                rx.color("gray", 11),
            ),
        ),
        spacing="2",
        align="center",
    )  # fmt: skip


@rx.page(
    route=routes.REGISTER,
    title="Create account · AgentPlatform",
    on_load=RegisterState.open,
)
def register_page() -> rx.Component:
    errors = RegisterState.field_errors
    return _auth_frame(
        "Create your account",
        "You get a workspace of your own, where you are the owner.",
        session_form(
            rx.vstack(
                field(
                    "Full name",
                    rx.input(id="reg-name", name="full_name", size="3", auto_complete="name",
                             on_change=RegisterState.set_reg_name),
                    field_id="reg-name",
                    error=errors.get("full_name", ""),
                ),
                field(
                    "Email",
                    rx.input(id="reg-email", name="email", type="email", size="3",
                             auto_complete="email", required=True,
                             on_change=RegisterState.set_reg_email),
                    field_id="reg-email",
                    error=errors.get("email", ""),
                ),
                field(
                    "Password",
                    rx.input(id="reg-password", name="password", type="password", size="3",
                             auto_complete="new-password", required=True,
                             on_change=RegisterState.set_reg_password),
                    field_id="reg-password",
                    error=errors.get("password", ""),
                ),
                rx.vstack(
                    rx.foreach(RegisterState.password_rules, _rule),
                    spacing="1",
                    aria_label="Requirements",
                    role="list",
                ),
                rx.button("Create account", type="submit", size="3", width="100%",
                          loading=RegisterState.submitting),
                spacing="4",
                width="100%",
            ),
            action=SIGN_UP_API,
            on_failure=RegisterState.failed,
            on_busy=RegisterState.busy,
            width="100%",
        ),
        rx.text(
            "Already have an account? ",
            rx.link("Sign in", href=routes.LOGIN),
            size="2",
            color_scheme="gray",
        ),
    )  # fmt: skip
