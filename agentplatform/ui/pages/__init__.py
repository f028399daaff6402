"""Pages: thin compositions of views, one module per page; importing this registers them."""

from agentplatform.ui.pages import (
    admin,
    agents,
    auth,
    dashboard,
    home,
    onboarding,
    prompts,
    runs,
    settings,
    teams,
)

__all__ = [
    "admin",
    "agents",
    "auth",
    "dashboard",
    "home",
    "onboarding",
    "prompts",
    "runs",
    "settings",
    "teams",
]
