"""The password rules, stated once for the API, the UI and the seed."""

from __future__ import annotations

from agentplatform.core.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 256
COMMON = {
    "password", "password1", "password123", "1234567890", "qwertyuiop", "letmein123",
    "iloveyou12", "admin12345", "welcome123", "changeme12",
}  # fmt: skip

RULES = (
    f"at least {MIN_LENGTH} characters",
    "letters and at least one digit or symbol",
    "not a common password and not your email",
)


def password_problems(password: str, *, email: str = "") -> list[str]:
    """Every rule the password breaks, in words a person can act on (empty: acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"use at most {MAX_LENGTH} characters")
    if not any(c.isalpha() for c in password):
        problems.append("include at least one letter")
    if not any(not c.isalpha() for c in password):
        problems.append("include at least one digit or symbol")
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 4:
        problems.append("choose something less common")
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in lowered:
        problems.append("don't include your email address")
    return problems


def check_password(password: str, *, email: str = "", field: str = "password") -> None:
    """Raise `ValidationFailed` naming every rule the password breaks."""
    problems = password_problems(password, email=email)
    if problems:
        raise ValidationFailed(
            "Password is too weak: " + "; ".join(problems) + ".",
            details=[{"field": field, "message": p} for p in problems],
        )
