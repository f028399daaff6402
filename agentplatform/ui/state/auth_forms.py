"""Sign-in and registration forms."""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError
from agentplatform.models.workspace import UserRegister
from agentplatform.services import auth
from agentplatform.services.passwords import MIN_LENGTH, password_problems
from agentplatform.ui import routes
from agentplatform.ui.client_address import browser_address
from agentplatform.ui.state.session import PERSONA_LANDING, SessionState, toast_error


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect to another origin after sign-in."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


class LoginState(SessionState):
    """The sign-in form."""

    login_error: str = ""
    submitting: bool = False

    @rx.var
    def signed_out_notice(self) -> bool:
        return self.router.url.query_parameters.get("signed_out", "") == "1"

    @rx.event
    async def submit(self, form: dict[str, Any]) -> EventSpec | None:
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        if not email or not password:
            self.login_error = "Enter your email and password."
            return None
        self.submitting = True
        try:
            async with session_scope() as db:
                tokens = await auth.login(
                    session=db,
                    email=email,
                    password=password,
                    client_address=browser_address(self.router),
                )
        except AppError as error:
            self.login_error = error.message
            return None
        finally:
            self.submitting = False
        self.login_error = ""
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token
        self.workspace_ref = ""
        target = _safe_next(self.router.url.query_parameters.get("next", ""))
        if not tokens.user.onboarded:
            return rx.redirect(routes.ONBOARDING)
        return rx.redirect(
            target or PERSONA_LANDING.get(tokens.user.persona or "", routes.DASHBOARD)
        )


class RegisterState(SessionState):
    """The registration form, with the password rules checked as you type."""

    reg_email: str = ""
    reg_name: str = ""
    reg_password: str = ""
    field_errors: dict[str, str] = {}
    submitting: bool = False

    @rx.var
    def password_rules(self) -> list[dict[str, str]]:
        problems = password_problems(self.reg_password, email=self.reg_email)
        checks = [
            (f"At least {MIN_LENGTH} characters", f"use at least {MIN_LENGTH} characters"),
            ("A letter", "include at least one letter"),
            ("A digit or symbol", "include at least one digit or symbol"),
            ("Not a common password", "choose something less common"),
            ("Doesn't contain your email", "don't include your email address"),
        ]
        started = self.reg_password != ""
        return [
            {"rule": rule, "state": ("bad" if problem in problems else "ok") if started else "todo"}
            for rule, problem in checks
        ]

    @rx.event
    def set_reg_email(self, value: str) -> None:
        self.reg_email = value

    @rx.event
    def set_reg_name(self, value: str) -> None:
        self.reg_name = value

    @rx.event
    def set_reg_password(self, value: str) -> None:
        self.reg_password = value

    @rx.event
    async def submit(self, form: dict[str, Any]) -> EventSpec | None:
        try:
            data = UserRegister(
                email=str(form.get("email", "")).strip(),
                password=str(form.get("password", "")),
                full_name=str(form.get("full_name", "")),
            )
        except ValidationError as error:
            self.field_errors = {
                str(e["loc"][0]): str(e["msg"]).removeprefix("value is not a valid email address: ")
                for e in error.errors()
            }
            return None
        self.submitting = True
        try:
            async with session_scope() as db:
                tokens = await auth.register(session=db, data=data)
        except AppError as error:
            field = "password" if "Password" in error.message else "email"
            self.field_errors = {field: error.message}
            return (
                toast_error(error) if field == "email" and "exists" not in error.message else None
            )
        finally:
            self.submitting = False
        self.field_errors = {}
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token
        self.workspace_ref = ""
        return rx.redirect(routes.ONBOARDING)
