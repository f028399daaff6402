"""Sign-in and registration forms.

The forms post to the session API from the page (`session_form`), which sets the HttpOnly
session cookie and answers; these states only show progress and the API's errors. After a
success the page reloads, and `redirect_if_signed_in` (on_load) sends the user on.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.services.passwords import MIN_LENGTH, password_problems
from agentplatform.ui.components.browser_session import SessionFailure
from agentplatform.ui.state.session import SessionState
from agentplatform.ui.state.toasts import toast

SIGNED_OUT_NOTICES = {
    "1": "You are signed out.",
    "password": "Your password was changed: sign in with the new one.",
}
REGISTER_FIELDS = ("email", "password", "full_name")
_EMAIL_PREFIX = "value is not a valid email address: "


class LoginState(SessionState):
    """The sign-in form."""

    login_error: str = ""
    submitting: bool = False

    @rx.var
    def signed_out_notice(self) -> str:
        return SIGNED_OUT_NOTICES.get(self.router.url.query_parameters.get("signed_out", ""), "")

    @rx.event
    async def open(self) -> EventSpec | None:
        """`on_load`: a fresh form, or on to where a signed-in visitor belongs."""
        self.submitting = False
        self.login_error = ""
        return await self._redirect_if_signed_in()

    @rx.event
    def busy(self, value: bool) -> None:
        self.submitting = value
        if value:
            self.login_error = ""

    @rx.event
    def failed(self, failure: SessionFailure) -> None:
        self.submitting = False
        self.login_error = str(failure.get("message", "")) or "Sign-in failed: try again."


def register_field_errors(failure: SessionFailure) -> dict[str, str]:
    """The API's answer to a registration, as messages under the form's fields."""
    status, message = failure.get("status"), str(failure.get("message", ""))
    if status == 409:
        return {"email": message}
    errors: dict[str, str] = {}
    details = failure.get("details")
    if status == 422 and isinstance(details, list):
        for detail in details:
            field = str(detail.get("field", "")) if isinstance(detail, dict) else ""
            if field in REGISTER_FIELDS and field not in errors:
                errors[field] = str(detail.get("message", "")).removeprefix(_EMAIL_PREFIX)
        if "password" in errors and message.startswith("Password"):
            errors["password"] = message
    return errors


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
    async def open(self) -> EventSpec | None:
        """`on_load`: a fresh form, or on to where a signed-in visitor belongs."""
        self.submitting = False
        self.field_errors = {}
        return await self._redirect_if_signed_in()

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
    def busy(self, value: bool) -> None:
        self.submitting = value
        if value:
            self.field_errors = {}

    @rx.event
    def failed(self, failure: SessionFailure) -> EventSpec | None:
        self.submitting = False
        errors: dict[str, Any] = register_field_errors(failure)
        if errors:
            self.field_errors = errors
            return None
        message = str(failure.get("message", "")) or "Registration failed: try again."
        self.field_errors = {"email": message}
        return toast.error(message, duration=6000, close_button=True)
